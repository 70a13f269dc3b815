terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "fleet_url" {
  description = "Base URL printed by `codomyrmex-agent simulate` (for a real fleet, your targets and router)."
  type        = string
}

variable "prometheus_url" {
  description = "Base URL of the Prometheus that scrapes the fleet."
  type        = string
}

variable "app_version" {
  description = "The version to roll out."
  type        = string
}

locals {
  # Share of the version's requests that answered 5xx over the last 10 s.
  # "or vector(0)": no 5xx series at all means no errors, not no data.
  requests   = "codomyrmex_sim_requests_total{deployment=\"{{deployment}}\",version=\"{{version}}\"}"
  errors     = "codomyrmex_sim_requests_total{deployment=\"{{deployment}}\",version=\"{{version}}\",code=~\"5..\"}"
  error_rate = "(sum(rate(${local.errors}[10s])) or vector(0)) / sum(rate(${local.requests}[10s]))"
}

resource "codomyrmex_deployment" "web" {
  name    = "web"
  version = var.app_version
  targets = [for i in range(1, 5) : { id = "t${i}", address = "${var.fleet_url}/t/t${i}" }]

  canary = {
    stages         = [25, 50, 100]
    stage_interval = "4s"
    router_url     = "${var.fleet_url}/router"
  }
  # After the last stage, keep measuring for a while before calling it done.
  bake = "4s"

  analysis = {
    initial_delay = "3s" # let Prometheus scrape the new version twice
    interval      = "2s"
    metrics = [{
      name       = "error-rate"
      max        = 0.05
      prometheus = { address = var.prometheus_url, query = local.error_rate }
    }]
  }

  health_check = { interval = "200ms", timeout = "10s" }
}

output "status" {
  value = codomyrmex_deployment.web.status
}

output "analysis_results" {
  value = [for r in codomyrmex_deployment.web.analysis_results : "${r.name} = ${r.value} (${r.passed ? "passed" : "failed"}, ${r.stage})"]
}
