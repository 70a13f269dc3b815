# One release, two regions: eu goes first, as a canary gated on its error
# rate and on an approval; us follows what eu serves. us reads eu's
# outputs, so Terraform applies eu first, and us moves to a new version
# only once eu completed it: while eu waits at its approval, us keeps the
# version eu ran before.
terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "release" {
  description = "The version to roll out, eu first."
  type        = string
  default     = "3.1.0"
}

variable "approved_version" {
  description = "The version approved past eu's pause at 50 % (null: none)."
  type        = string
  default     = null
}

variable "regions" {
  description = "The hosts of each region, by target id."
  type        = map(map(object({ address = string })))
  default = {
    eu = {
      "web-eu-1" = { address = "http://10.1.0.1:8080" }
      "web-eu-2" = { address = "http://10.1.0.2:8080" }
      "web-eu-3" = { address = "http://10.1.0.3:8080" }
      "web-eu-4" = { address = "http://10.1.0.4:8080" }
    }
    us = {
      "web-us-1" = { address = "http://10.2.0.1:8080" }
      "web-us-2" = { address = "http://10.2.0.2:8080" }
    }
  }
}

provider "codomyrmex" {}

module "web_eu" {
  source = "../modules/service-rollout"

  # Deployment names are per fleet: one name per region.
  service_name    = "web-eu"
  service_version = var.release
  hosts           = var.regions.eu

  strategy = "canary"
  canary   = { stages = [25, 50, 100], stage_interval = "5m" }

  error_rate_gate = {
    prometheus_url = "http://prometheus.eu.internal:9090"
    query          = "(sum(rate(http_requests_total{app=\"web\",version=\"{{version}}\",code=~\"5..\"}[5m])) or vector(0)) / sum(rate(http_requests_total{app=\"web\",version=\"{{version}}\"}[5m]))"
  }
  approval = { pause_at = 50, approved_version = var.approved_version }
}

module "web_us" {
  source = "../modules/service-rollout"

  service_name = "web-us"
  # What eu serves; while eu is mid-canary, the version it ran before (on
  # a first release with no previous version, the release itself).
  service_version = coalesce(module.web_eu.live_version, module.web_eu.previous_version, var.release)
  hosts           = var.regions.us

  strategy   = "rolling"
  batch_size = 1
}

output "regions" {
  description = "Status and live version of each region."
  value = {
    eu = { status = module.web_eu.status, live_version = module.web_eu.live_version }
    us = { status = module.web_us.status, live_version = module.web_us.live_version }
  }
}
