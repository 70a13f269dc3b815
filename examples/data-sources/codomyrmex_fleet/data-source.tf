locals {
  # The same list as codomyrmex_deployment's targets (or pass
  # codomyrmex_deployment.web.targets itself).
  web_targets = [for i in range(1, 11) : { id = "web-${i}", address = "http://10.0.0.${i}:8080" }]
}

# What the targets run now, and what the router last applied.
data "codomyrmex_fleet" "web" {
  targets    = local.web_targets
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

# Read at every plan and apply: warns, without failing, when the fleet runs
# more than one version (with a codomyrmex_deployment, only once its status
# is "completed": see the guide Watching a rollout).
check "web_runs_one_version" {
  data "codomyrmex_fleet" "web_now" {
    targets = local.web_targets
  }

  assert {
    condition     = length(data.codomyrmex_fleet.web_now.versions) == 1
    error_message = "The fleet runs ${join(", ", data.codomyrmex_fleet.web_now.versions)}."
  }
}
