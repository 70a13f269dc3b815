variable "service_name" {
  description = "Name of the service: the deployment's name and id, 1 to 128 of A-Z a-z 0-9 . _ -. Changing it replaces the deployment."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,128}$", var.service_name))
    error_message = "service_name must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' or '-'."
  }
}

variable "service_version" {
  description = "The version to roll out. Setting it back to the previous version while a release is paused or failed rolls back at once."
  type        = string

  validation {
    condition     = length(trimspace(var.service_version)) > 0
    error_message = "service_version must not be empty."
  }
}

variable "hosts" {
  description = <<-EOT
    The hosts running the service, keyed by target id (the ids are what
    `changed_targets` lists). Canary stages and rolling batches take them in
    the order of their keys. `address` is the agent's base URL (http or https);
    `slot` (blue or green) is required for strategy = "blue_green" only.
  EOT
  type = map(object({
    address  = string
    slot     = optional(string)
    metadata = optional(map(string), {})
  }))

  validation {
    condition     = length(var.hosts) > 0
    error_message = "hosts must name at least one host."
  }
  validation {
    condition     = alltrue([for h in values(var.hosts) : can(regex("^https?://", h.address))])
    error_message = "Every hosts[*].address must start with http:// or https://."
  }
  validation {
    condition     = alltrue([for h in values(var.hosts) : h.slot == null ? true : contains(["blue", "green"], h.slot)])
    error_message = "hosts[*].slot must be \"blue\", \"green\" or left out."
  }
}

variable "strategy" {
  description = "How the version reaches the hosts: \"rolling\" (the default: batches of `batch_size`), \"canary\" (stages of traffic, see `canary`) or \"blue_green\" (the idle slot, then a switch)."
  type        = string
  default     = "rolling"
  nullable    = false

  validation {
    condition     = contains(["rolling", "canary", "blue_green"], var.strategy)
    error_message = "strategy must be one of \"rolling\", \"canary\" or \"blue_green\"."
  }
}

variable "batch_size" {
  description = "Rolling: hosts deployed at once."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.batch_size >= 1 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be a whole number of at least 1."
  }
}

variable "canary" {
  description = "Canary: the traffic percentages of its stages (ascending, the last 100) and the wait after each stage but the last (a Go duration)."
  type = object({
    stages         = optional(list(number), [10, 25, 50, 100])
    stage_interval = optional(string, "60s")
  })
  default  = {}
  nullable = false

  validation {
    condition     = length(var.canary.stages) > 0 && var.canary.stages[length(var.canary.stages) - 1] == 100
    error_message = "canary.stages must end with 100."
  }
}

variable "router_url" {
  description = "The router the canary's weights or the blue/green switch go to (null: traffic is left to your own load balancer)."
  type        = string
  default     = null
}

variable "error_rate_gate" {
  description = <<-EOT
    An optional Prometheus gate: `query` must return the error rate of the
    new version (a ratio, 0 to 1), `{{version}}` in it stands for that
    version. A measurement above `max` fails; `failure_limit` failures roll
    the release back. Measured every `interval` while each stage waits.
  EOT
  type = object({
    prometheus_url = string
    query          = string
    max            = optional(number, 0.01)
    failure_limit  = optional(number, 1)
    interval       = optional(string, "1m")
  })
  default = null

  validation {
    condition     = var.error_rate_gate == null ? true : can(regex("^https?://", var.error_rate_gate.prometheus_url))
    error_message = "error_rate_gate.prometheus_url must start with http:// or https://."
  }
  validation {
    condition     = var.error_rate_gate == null ? true : var.error_rate_gate.max >= 0 && var.error_rate_gate.max <= 1
    error_message = "error_rate_gate.max is a ratio: between 0 and 1."
  }
}

variable "approval" {
  description = <<-EOT
    An optional manual approval. Canary: the release pauses at `pause_at`
    percent (one of `canary.stages`, below 100); blue/green: before the
    switch (`pause_at` is not used). The apply that reaches the pause ends
    successfully with status = "paused"; set `approved_version` to the
    paused version and apply again to continue. An approval for another
    version opens nothing.
  EOT
  type = object({
    pause_at         = optional(number, 25)
    approved_version = optional(string)
  })
  default = null
}

variable "on_destroy" {
  description = "What destroying the module does: \"rollback\" (deploy the previous version back) or \"none\" (forget the deployment)."
  type        = string
  default     = "rollback"
  nullable    = false

  validation {
    condition     = contains(["rollback", "none"], var.on_destroy)
    error_message = "on_destroy must be \"rollback\" or \"none\"."
  }
}

variable "feature_flag" {
  description = <<-EOT
    An optional feature flag rolled out in stages after the deployment: one
    stage per apply once `stage_delay` has passed (run plan and apply on a
    schedule). Needs the provider's `flag_endpoint`. `paused` holds it,
    `max_stage` stops it at that stage, `aborted` turns it off for everyone.
  EOT
  type = object({
    name        = string
    stages      = optional(list(number), [5, 25, 50, 100])
    stage_delay = optional(string, "24h")
    paused      = optional(bool, false)
    max_stage   = optional(number)
    aborted     = optional(bool, false)
  })
  default = null
}
