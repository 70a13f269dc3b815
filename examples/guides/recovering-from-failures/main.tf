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

variable "auto_rollback" {
  type    = bool
  default = true
}

resource "codomyrmex_deployment" "app" {
  name    = "app"
  version = var.app_version

  targets = [for i in range(1, 7) : {
    id      = "t${i}"
    address = "${var.fleet_url}/t/t${i}"
  }]

  rolling = {
    batch_size  = 2
    batch_delay = "1s"
  }

  health_check = {
    interval = "200ms"
    timeout  = "5s"
  }

  auto_rollback = var.auto_rollback
}

output "status" {
  value = codomyrmex_deployment.app.status
}

output "target_versions" {
  value = codomyrmex_deployment.app.target_versions
}
