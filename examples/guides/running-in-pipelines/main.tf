terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }

  # In a pipeline the state lives in a remote backend with locking, e.g.:
  # backend "s3" { bucket = "...", key = "web/terraform.tfstate", region = "...", use_lockfile = true }
}

variable "fleet_url" {
  description = "Base URL of the fleet; with `codomyrmex-agent simulate`, its address (targets at /t/<id>, the router at /router)."
  type        = string
}

variable "release" {
  description = "The version to roll out, set by the release job."
  type        = string
  default     = "2.0.0"
}

variable "approved_version" {
  description = "Set by the promotion job once someone approved the paused release (null: no approval)."
  type        = string
  default     = null
}

variable "stage_interval" {
  description = "Wait after each canary stage: minutes in production, seconds on a simulated fleet."
  type        = string
  default     = "5m"
}

# No token here: the provider reads CODOMYRMEX_TOKEN from the environment,
# which the runner fills from its secret store. A value given here would be
# written into saved plan files.
provider "codomyrmex" {}

module "web" {
  source = "../../modules/service-rollout"

  service_name    = "web"
  service_version = var.release
  hosts           = { for i in range(1, 5) : "web-${i}" => { address = "${var.fleet_url}/t/t${i}" } }

  strategy   = "canary"
  canary     = { stages = [50, 100], stage_interval = var.stage_interval }
  router_url = "${var.fleet_url}/router"

  approval = { pause_at = 50, approved_version = var.approved_version }
}

output "status" {
  value = module.web.status
}

output "paused_at" {
  value = module.web.paused_at
}

output "live_version" {
  value = module.web.live_version
}

output "release" {
  value = var.release
}
