terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "fleet_url" {
  description = "Base URL printed by `codomyrmex-agent simulate`."
  type        = string
}

variable "app_version" {
  type = string
}

variable "chat_webhook_url" {
  description = "An incoming webhook of Slack, Mattermost or Rocket.Chat. Its path is its secret: keep it out of the configuration."
  type        = string
  sensitive   = true
}

variable "events_url" {
  description = "Where an event consumer takes CloudEvents."
  type        = string
}

variable "events_token" {
  description = "What the event consumer expects in its Authorization header."
  type        = string
  sensitive   = true
}

resource "codomyrmex_deployment" "app" {
  name    = "app"
  version = var.app_version

  targets = [for i in range(1, 5) : {
    id      = "t${i}"
    address = "${var.fleet_url}/t/t${i}"
  }]

  canary = {
    stages         = [25, 50, 100]
    stage_interval = "1s"
    router_url     = "${var.fleet_url}/router"
  }

  health_check = {
    interval = "200ms"
    timeout  = "5s"
  }

  notifications = [
    {
      # One readable line per step worth a human's attention.
      url    = var.chat_webhook_url
      format = "slack"
      events = ["started", "paused", "completed", "failed", "rolled_back"]
    },
    {
      # Every event, as a CloudEvent, with the consumer's own credentials.
      url     = var.events_url
      headers = { Authorization = "Bearer ${var.events_token}" }
    },
  ]
}
