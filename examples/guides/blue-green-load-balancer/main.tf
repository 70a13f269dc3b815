terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "fleet_url" {
  description = "Base URL printed by `codomyrmex-agent simulate` (for a real fleet, use your own addresses)."
  type        = string
}

variable "app_version" {
  description = "The version to roll out."
  type        = string
}

locals {
  # Two targets per slot. On a real fleet these are your hosts' agents.
  targets = [
    { id = "t1", address = "${var.fleet_url}/t/t1", slot = "blue" },
    { id = "t2", address = "${var.fleet_url}/t/t2", slot = "blue" },
    { id = "t3", address = "${var.fleet_url}/t/t3", slot = "green" },
    { id = "t4", address = "${var.fleet_url}/t/t4", slot = "green" },
  ]
}

resource "codomyrmex_deployment" "shop" {
  name    = "shop"
  version = var.app_version
  targets = local.targets

  # No router_url: the provider flips active_slot, and the load balancer
  # below follows it.
  blue_green = {}

  health_check = {
    interval = "200ms"
    timeout  = "10s"
  }
}

# Stand-in for your load balancer's pool (an aws_lb_target_group_attachment,
# a google_compute_backend_service, an nginx upstream rendered by a template,
# ...). It depends on active_slot, so Terraform changes it only after the
# deployment succeeded, and never when the rollout failed.
resource "terraform_data" "live_pool" {
  input = {
    slot      = codomyrmex_deployment.shop.active_slot
    addresses = [for t in local.targets : t.address if t.slot == codomyrmex_deployment.shop.active_slot]
  }
}

output "active_slot" {
  value = codomyrmex_deployment.shop.active_slot
}

output "live_addresses" {
  value = terraform_data.live_pool.output.addresses
}
