# Notifications: a line in the team's chat when a release starts, pauses,
# completes or fails, and every event as a CloudEvent to an event consumer.
# A receiver that is down is a warning; it never fails the rollout.
variable "chat_webhook_url" {
  type      = string
  sensitive = true # a webhook's path is its secret
}

variable "events_token" {
  type      = string
  sensitive = true
}

resource "codomyrmex_deployment" "orders" {
  name    = "orders"
  version = "5.2.0"

  targets = [for i in range(1, 5) : {
    id      = "orders-${i}"
    address = "http://10.0.5.${i}:8080"
  }]

  canary = {
    stages     = [25, 50, 100]
    router_url = "http://10.0.5.100:7070"
  }

  notifications = [
    {
      url    = var.chat_webhook_url
      format = "slack"
      events = ["started", "paused", "completed", "failed", "rolled_back"]
    },
    {
      url     = "https://events.example.com/codomyrmex"
      headers = { Authorization = "Bearer ${var.events_token}" }
    },
  ]
}
