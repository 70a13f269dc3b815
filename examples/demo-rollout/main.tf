# The second part of `make demo`: a feature flag rolled out in stages, one
# stage per apply once stage_delay has passed. scripts/demo.sh passes the URL
# of `codomyrmex-agent flags`, a durable flag service that applications ask
# through OFREP.

terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "flag_endpoint" {
  description = "Base URL of the flag service (`codomyrmex-agent flags`)."
  type        = string
}

provider "codomyrmex" {
  flag_endpoint = var.flag_endpoint
}

resource "codomyrmex_feature_rollout" "checkout" {
  flag_name   = "new-checkout"
  stages      = provider::codomyrmex::linear_stages(10, 40, 2) # [10, 50, 100]
  stage_delay = "3s"
}

locals {
  users = [for i in range(1, 21) : "user-${i}"]
}

output "state" {
  value = "${codomyrmex_feature_rollout.checkout.state} at stage ${codomyrmex_feature_rollout.checkout.current_stage}: ${codomyrmex_feature_rollout.checkout.percentage}%"
}

output "users_with_new_checkout" {
  description = "Which of 20 users see the new checkout: raising the percentage only ever adds users."
  value       = join(" ", [for u in local.users : u if provider::codomyrmex::in_rollout("new-checkout", u, codomyrmex_feature_rollout.checkout.percentage)])
}
