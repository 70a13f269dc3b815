terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
  # In CI, keep state in a backend both jobs share (s3, gcs, azurerm, pg,
  # Terraform Cloud...). The guide runs both jobs in one directory instead.
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
  description = "Set by the promotion job: the version a person approved."
  type        = string
  default     = null
}

variable "approve_through" {
  description = "The highest gate the approval opens."
  type        = number
  default     = 100
}

resource "codomyrmex_deployment" "web" {
  name    = "web"
  version = var.app_version
  targets = [for i in range(1, 9) : { id = "t${i}", address = "${var.fleet_url}/t/t${i}" }]

  canary = {
    stages         = [25, 50, 100]
    stage_interval = "1s"
    router_url     = "${var.fleet_url}/router"
    # Stop at 25 % until someone approves this version.
    gates = [{ at = 25 }]
  }

  approve = var.approve_version == null ? null : {
    version = var.approve_version
    through = var.approve_through
  }

  health_check = { interval = "200ms", timeout = "10s" }
}

output "rollout" {
  value = {
    version   = codomyrmex_deployment.web.version
    status    = codomyrmex_deployment.web.status
    paused_at = codomyrmex_deployment.web.paused_at
    traffic   = codomyrmex_deployment.web.traffic_percentage
  }
}
