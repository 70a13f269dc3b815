terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "flag_endpoint" {
  description = "Base URL of the flag service: `codomyrmex-agent flags`, or any service speaking the target protocol's flag calls."
  type        = string
}

variable "stage_delay" {
  description = "Minimum time between two stages: hours or days in production, seconds to try it."
  type        = string
  default     = "24h"
}

variable "aborted" {
  description = "Turn the flag off for everybody (final)."
  type        = bool
  default     = false
}

variable "users" {
  description = "Targeting keys to show the exposure of, computed in Terraform."
  type        = list(string)
  default     = ["bob", "ivan", "rupert"]
}

# The token comes from CODOMYRMEX_TOKEN: the flag service's --token-file.
provider "codomyrmex" {
  flag_endpoint = var.flag_endpoint
}

resource "codomyrmex_feature_rollout" "new_checkout" {
  flag_name   = "new-checkout"
  stages      = [20, 50, 100]
  stage_delay = var.stage_delay
  aborted     = var.aborted
}

output "percentage" {
  value = codomyrmex_feature_rollout.new_checkout.percentage
}

# The same answer an OFREP evaluation of each key gives while the rollout is
# active, paused or completed (pending and aborted rollouts have percentage 0).
output "in_rollout" {
  value = {
    for u in var.users : u => provider::codomyrmex::in_rollout("new-checkout", u, codomyrmex_feature_rollout.new_checkout.percentage)
  }
}
