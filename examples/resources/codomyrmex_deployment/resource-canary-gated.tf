# A canary judged on Prometheus metrics, paused at 25 % until a person
# approves this version, then held at 50 % for a day before it completes.
variable "approved_version" {
  description = "Set by the promotion job once someone approved (null: no approval)."
  type        = string
  default     = null
}

locals {
  # The labels of this version's requests; {{version}} is filled in per measurement.
  labels = "app=\"payments\",version=\"{{version}}\""
}

resource "codomyrmex_deployment" "payments" {
  name    = "payments"
  version = "4.2.0"
  targets = [for i in range(1, 21) : { id = "payments-${i}", address = "http://10.0.4.${i}:8080" }]

  canary = {
    stages         = [5, 25, 50, 100]
    stage_interval = "10m"
    router_url     = "http://10.0.4.100:7070"
    gates = [
      { at = 25 },               # manual: continues once approved
      { at = 50, wait = "24h" }, # time: opens a day after reaching 50 %; a plan and apply after that continue
    ]
  }
  bake = "30m" # after the last stage

  analysis = {
    initial_delay = "1m"
    interval      = "1m"
    metrics = [
      {
        name          = "error-rate"
        max           = 0.01
        failure_limit = 1
        prometheus = {
          address = "http://prometheus.internal:9090"
          query   = "(sum(rate(http_requests_total{${local.labels},code=~\"5..\"}[5m])) or vector(0)) / sum(rate(http_requests_total{${local.labels}}[5m]))"
        }
      },
      {
        name   = "smoke"
        web    = { url = "https://checks.internal/smoke?service=payments&version={{version}}", json_path = "ok" }
        equals = "true"
      },
    ]
  }

  health_check = { min_healthy = "30s" }

  approve = var.approved_version == null ? null : { version = var.approved_version, through = 25 }
}
