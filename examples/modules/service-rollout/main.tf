locals {
  approval = var.approval == null ? { pause_at = null, approved_version = null } : var.approval

  # The approval opens the gates of the paused version only: at or below
  # pause_at on a canary, the switch on blue/green.
  approve = local.approval.approved_version == null ? null : {
    version = local.approval.approved_version
    through = var.strategy == "canary" ? local.approval.pause_at : 100
  }
}

# One deployment per module instance, always named "this": callers move a
# bare resource into the module with
#   moved { from = codomyrmex_deployment.NAME, to = module.NAME.codomyrmex_deployment.this }
resource "codomyrmex_deployment" "this" {
  name    = var.service_name
  version = var.service_version

  targets = [for id, h in var.hosts : {
    id       = id
    address  = h.address
    slot     = h.slot
    metadata = h.metadata
  }]

  rolling = var.strategy != "rolling" ? null : {
    batch_size = var.batch_size
  }

  canary = var.strategy != "canary" ? null : {
    stages         = var.canary.stages
    stage_interval = var.canary.stage_interval
    router_url     = var.router_url
    gates          = var.approval == null ? null : [{ at = local.approval.pause_at }]
  }

  blue_green = var.strategy != "blue_green" ? null : {
    router_url          = var.router_url
    pause_before_switch = var.approval != null
  }

  analysis = var.error_rate_gate == null ? null : {
    interval = var.error_rate_gate.interval
    metrics = [{
      name          = "error-rate"
      max           = var.error_rate_gate.max
      failure_limit = var.error_rate_gate.failure_limit
      prometheus = {
        address = var.error_rate_gate.prometheus_url
        query   = var.error_rate_gate.query
      }
    }]
  }

  approve    = local.approve
  on_destroy = var.on_destroy

  lifecycle {
    precondition {
      condition     = var.strategy != "canary" || var.approval == null ? true : contains(var.canary.stages, local.approval.pause_at) && local.approval.pause_at < 100
      error_message = "approval.pause_at must be one of canary.stages and below 100."
    }
    precondition {
      condition     = var.approval == null || var.strategy != "rolling"
      error_message = "approval needs strategy = \"canary\" or \"blue_green\": a rolling release has nowhere to pause."
    }
    precondition {
      condition     = var.strategy != "blue_green" || alltrue([for h in values(var.hosts) : h.slot != null])
      error_message = "strategy = \"blue_green\" needs a slot (\"blue\" or \"green\") on every host."
    }
  }
}

# The flag goes up only after the deployment of this apply succeeded.
resource "codomyrmex_feature_rollout" "flag" {
  count = var.feature_flag == null ? 0 : 1

  flag_name   = var.feature_flag.name
  stages      = var.feature_flag.stages
  stage_delay = var.feature_flag.stage_delay
  paused      = var.feature_flag.paused
  max_stage   = var.feature_flag.max_stage
  aborted     = var.feature_flag.aborted

  depends_on = [codomyrmex_deployment.this]
}
