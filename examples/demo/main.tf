# The demo of `make demo`: a canary rollout across a simulated fleet.
# scripts/demo.sh starts `codomyrmex-agent simulate` and passes its URL.

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
  description = "The version to roll out."
  type        = string
}

variable "fleet_size" {
  type    = number
  default = 10
}

provider "codomyrmex" {
  flag_endpoint = "${var.fleet_url}/flags"
}

resource "codomyrmex_deployment" "web" {
  name    = "web"
  version = var.app_version

  targets = [for i in range(1, var.fleet_size + 1) : {
    id      = "t${i}"
    address = "${var.fleet_url}/t/t${i}"
  }]

  canary = {
    stages         = [10, 30, 60, 100]
    stage_interval = "1s"
    router_url     = "${var.fleet_url}/router"
  }

  health_check = {
    interval = "200ms"
    timeout  = "5s"
  }
}

output "status" {
  value = codomyrmex_deployment.web.status
}

output "previous_version" {
  value = codomyrmex_deployment.web.previous_version
}

output "traffic_percentage" {
  value = codomyrmex_deployment.web.traffic_percentage
}

output "target_versions" {
  value = codomyrmex_deployment.web.target_versions
}
