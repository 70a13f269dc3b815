# The configuration of the 0.1.0 state fixture (docs: RELEASING.md,
# "State fixtures"): one resource of each shape 0.1.0 saves, on four
# simulated fleets whose base URLs are the variables.
variable "main" {
  type = string
}
variable "bluegreen" {
  type = string
}
variable "canary" {
  type = string
}
variable "gated" {
  type = string
}
variable "app_version" {
  type = string
}
variable "rollout_max_stage" {
  type = number
}

provider "codomyrmex" {
  flag_endpoint   = "${var.main}/flags"
  request_timeout = "2s"
  retries         = 0
}

resource "codomyrmex_deployment" "rolling" {
  name         = "rolling"
  version      = var.app_version
  targets      = [for i in range(1, 4) : { id = "t${i}", address = "${var.main}/t/t${i}" }]
  rolling      = { batch_size = 2, batch_delay = "0s" }
  health_check = { interval = "10ms", timeout = "2s" }
}

resource "codomyrmex_deployment" "feature_flag" {
  name         = "flagged"
  version      = var.app_version
  targets      = [for i in range(4, 7) : { id = "t${i}", address = "${var.main}/t/t${i}" }]
  feature_flag = { flag_name = "new-checkout", initial_rollout = 10 }
  health_check = { interval = "10ms", timeout = "2s" }
}

resource "codomyrmex_deployment" "blue_green" {
  name    = "bluegreen"
  version = var.app_version
  targets = [
    { id = "t1", address = "${var.bluegreen}/t/t1", slot = "blue" },
    { id = "t2", address = "${var.bluegreen}/t/t2", slot = "blue" },
    { id = "t3", address = "${var.bluegreen}/t/t3", slot = "green" },
    { id = "t4", address = "${var.bluegreen}/t/t4", slot = "green" },
  ]
  blue_green   = { router_url = "${var.bluegreen}/router" }
  health_check = { interval = "10ms", timeout = "2s" }
}

resource "codomyrmex_deployment" "canary" {
  name         = "canary"
  version      = var.app_version
  targets      = [for i in range(1, 5) : { id = "t${i}", address = "${var.canary}/t/t${i}" }]
  canary       = { stages = [25, 100], stage_interval = "0s", router_url = "${var.canary}/router" }
  health_check = { interval = "10ms", timeout = "2s" }
}

# Paused at the manual gate at 50 %.
resource "codomyrmex_deployment" "gated" {
  name    = "gated"
  version = var.app_version
  targets = [for i in range(1, 11) : { id = "t${i}", address = "${var.gated}/t/t${i}" }]
  canary = {
    stages         = [10, 50, 100]
    stage_interval = "0s"
    router_url     = "${var.gated}/router"
    gates          = [{ at = 50 }]
  }
  health_check = { interval = "10ms", timeout = "2s" }
}

# Held at stage 0 by max_stage, so that a plan of the fixture stays empty
# however old it is.
resource "codomyrmex_feature_rollout" "checkout" {
  flag_name   = "checkout"
  stage_delay = "1s"
  max_stage   = var.rollout_max_stage
}
