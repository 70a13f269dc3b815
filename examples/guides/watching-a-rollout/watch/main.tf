terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "fleet_url" {
  description = "Base URL of the fleet and its router (here, `codomyrmex-agent simulate`)."
  type        = string
}

variable "app_version" {
  description = "The version to roll out."
  type        = string
}

variable "approve_version" {
  description = "The version a person approved past the gate."
  type        = string
  default     = null
}

locals {
  targets = [for i in range(1, 5) : { id = "t${i}", address = "${var.fleet_url}/t/t${i}" }]
}

resource "codomyrmex_deployment" "web" {
  name    = "web"
  version = var.app_version
  targets = local.targets

  canary = {
    stages         = [25, 50, 75, 100]
    stage_interval = "2s"
    router_url     = "${var.fleet_url}/router"
    gates          = [{ at = 25 }]
  }

  approve = var.approve_version == null ? null : { version = var.approve_version }

  health_check = { interval = "200ms", timeout = "10s" }
}

# Every plan and apply reads the fleet again and warns, without failing,
# when a finished rollout left more than one version running.
check "one_version_running" {
  data "codomyrmex_fleet" "web" {
    targets    = local.targets
    router_url = "${var.fleet_url}/router"
  }

  assert {
    condition     = codomyrmex_deployment.web.status != "completed" || length(data.codomyrmex_fleet.web.versions) == 1
    error_message = "web is completed at ${codomyrmex_deployment.web.version}, but the fleet runs ${join(", ", data.codomyrmex_fleet.web.versions)}."
  }

  assert {
    condition     = alltrue(values(data.codomyrmex_fleet.web.healthy))
    error_message = "Unhealthy targets: ${join(", ", [for id, ok in data.codomyrmex_fleet.web.healthy : id if !ok])}."
  }
}
