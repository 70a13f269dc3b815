terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "agents" {
  description = "Each host's agent (codomyrmex-agent serve), by target id."
  type        = map(string)
}

variable "router_url" {
  description = "Base URL of codomyrmex-agent router, which drives the load balancer."
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

resource "codomyrmex_deployment" "web" {
  name    = "web"
  version = var.app_version
  targets = [for id, address in var.agents : { id = id, address = address }]

  canary = {
    # At 10 %, one host of four runs the new version, and the load
    # balancer sends it 10 % of the requests, not 25 %.
    stages = [10, 50, 100]
    # Seconds to try it; minutes, with analysis, in real life.
    stage_interval = "1s"
    router_url     = var.router_url
    gates          = [{ at = 10 }]
  }

  approve = var.approve_version == null ? null : { version = var.approve_version }

  health_check = { interval = "200ms", timeout = "10s" }
}

output "status" {
  value = codomyrmex_deployment.web.status
}

output "traffic" {
  value = codomyrmex_deployment.web.traffic_percentage
}
