# What the deployment's targets run now, and what its router last applied.
data "codomyrmex_fleet" "web" {
  targets    = codomyrmex_deployment.web.targets
  router_url = "http://router.internal:7070"
}

output "web_versions" {
  value = data.codomyrmex_fleet.web.versions # ["2.0.0"] once every target runs it
}

output "web_unhealthy" {
  value = [for id, ok in data.codomyrmex_fleet.web.healthy : id if !ok]
}

output "web_canary_share" {
  # The canary's share of the traffic, as the router applied it.
  value = data.codomyrmex_fleet.web.router.deployments["web"].weights
}

# Read at every plan and apply: warns, without failing, when a finished
# rollout left more than one version running.
check "web_runs_one_version" {
  data "codomyrmex_fleet" "web_now" {
    targets = codomyrmex_deployment.web.targets
  }

  assert {
    condition     = codomyrmex_deployment.web.status != "completed" || length(data.codomyrmex_fleet.web_now.versions) == 1
    error_message = "The fleet runs ${join(", ", data.codomyrmex_fleet.web_now.versions)}."
  }
}
