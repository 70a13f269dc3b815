# A canary judged on Prometheus metrics and paused at 25 % until a person
# approves the version, through the service-rollout module (the same
# rollout as the resource example resource-canary-gated.tf, written as a
# root module calling a module your platform team publishes).
terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "payments_version" {
  description = "The version to roll out, set by the release pipeline."
  type        = string
  default     = "4.2.0"
}

variable "approved_version" {
  description = "Set by the promotion job once someone approved the paused version (null: no approval)."
  type        = string
  default     = null
}

# The token comes from CODOMYRMEX_TOKEN, set from the runner's secret store.
provider "codomyrmex" {}

locals {
  # The labels of this version's requests; {{version}} is filled in per measurement.
  labels = "app=\"payments\",version=\"{{version}}\""
}

module "payments" {
  # A published module would be e.g. "git::https://git.example.com/platform/service-rollout.git?ref=v1.0.0".
  source = "../modules/service-rollout"

  service_name    = "payments"
  service_version = var.payments_version
  hosts           = { for i in range(1, 21) : "payments-${i}" => { address = "http://10.0.4.${i}:8080" } }

  strategy   = "canary"
  canary     = { stages = [5, 25, 50, 100], stage_interval = "10m" }
  router_url = "http://10.0.4.100:7070"

  error_rate_gate = {
    prometheus_url = "http://prometheus.internal:9090"
    query          = "(sum(rate(http_requests_total{${local.labels},code=~\"5..\"}[5m])) or vector(0)) / sum(rate(http_requests_total{${local.labels}}[5m]))"
  }

  approval = { pause_at = 25, approved_version = var.approved_version }
}

# A configuration that managed the deployment as a bare resource keeps it
# (no redeploy) when it moves into the module.
moved {
  from = codomyrmex_deployment.payments
  to   = module.payments.codomyrmex_deployment.this
}

output "payments_status" {
  description = "\"paused\" while the release waits at 25 % for approved_version."
  value       = module.payments.status
}

output "payments_live_version" {
  value = module.payments.live_version
}

output "payments_changed_targets" {
  value = module.payments.changed_targets
}
