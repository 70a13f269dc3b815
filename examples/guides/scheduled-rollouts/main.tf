terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "flag_endpoint" {
  description = "The flag service; with `codomyrmex-agent simulate`, its base URL followed by /flags."
  type        = string
}

variable "stage_delay" {
  description = "Minimum time between two stages: a day in production, seconds on a simulated fleet."
  type        = string
  default     = "24h"
}

provider "codomyrmex" {
  flag_endpoint = var.flag_endpoint
}

resource "codomyrmex_feature_rollout" "new_checkout" {
  flag_name   = "new-checkout"
  stages      = [5, 25, 50, 100]
  stage_delay = var.stage_delay

  # Set paused = true to hold the current percentage, max_stage = N to stop
  # auto-advance at stage N, aborted = true to turn the flag off for everyone.
  paused = false
}

output "percentage" {
  value = codomyrmex_feature_rollout.new_checkout.percentage
}

output "next_advance_at" {
  value = codomyrmex_feature_rollout.new_checkout.next_advance_at
}
