terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "fleet_url" {
  description = "Base URL of the fleet; with `codomyrmex-agent simulate`, its address (targets at /t/<id>, the flag service at /flags)."
  type        = string
}

variable "stage_delay" {
  description = "Minimum time between two stages of the flag: a day in production, seconds on a simulated fleet."
  type        = string
  default     = "24h"
}

provider "codomyrmex" {
  flag_endpoint = "${var.fleet_url}/flags"
}

# The service-rollout module deploys the version to the hosts, then rolls
# the flag out, one stage per apply.
module "checkout" {
  source = "../../modules/service-rollout"

  service_name    = "checkout"
  service_version = "7.0.0"
  hosts           = { "t1" = { address = "${var.fleet_url}/t/t1" } }

  feature_flag = {
    name        = "new-checkout"
    stages      = [5, 25, 50, 100]
    stage_delay = var.stage_delay

    # Set paused = true to hold the current percentage, max_stage = N to stop
    # auto-advance at stage N, aborted = true to turn the flag off for everyone.
    paused = false
  }
}

output "percentage" {
  value = module.checkout.flag_percentage
}

output "next_advance_at" {
  value = module.checkout.flag_next_advance_at
}
