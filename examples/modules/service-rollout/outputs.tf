locals {
  d = codomyrmex_deployment.this

  # The hosts serving traffic: on blue/green the active slot, else all.
  live_hosts = var.strategy == "blue_green" ? [for id, h in var.hosts : id if h.slot == local.d.active_slot] : keys(var.hosts)
  live       = distinct([for id in local.live_hosts : lookup(coalesce(local.d.target_versions, {}), id, null) if lookup(coalesce(local.d.target_versions, {}), id, null) != null])
}

output "status" {
  description = "Outcome of the last apply: \"completed\", \"paused\" (at the approval; see paused_at), \"failed\" or \"rolled_back\"."
  value       = local.d.status
}

output "live_version" {
  description = "The version every serving host reports (on blue/green, the hosts of the active slot); null while they differ, as during a paused canary."
  value       = length(local.live) == 1 ? local.live[0] : null
}

output "changed_targets" {
  description = "The host ids this apply brings to service_version, in rollout order; known at plan time."
  value       = local.d.changed_targets
}

output "previous_version" {
  description = "The version the hosts ran before this release, the one a rollback restores."
  value       = local.d.previous_version
}

output "paused_at" {
  description = "While status = \"paused\": the traffic percentage the release waits at (blue/green: 0, before the switch)."
  value       = local.d.paused_at
}

output "traffic_percentage" {
  description = "The share of traffic the new version receives."
  value       = local.d.traffic_percentage
}

output "target_versions" {
  description = "The version each host reported, by host id."
  value       = local.d.target_versions
}

output "flag_percentage" {
  description = "The feature flag's published percentage (null without feature_flag)."
  value       = one(codomyrmex_feature_rollout.flag[*].percentage)
}

output "flag_next_advance_at" {
  description = "When the next plan advances the feature flag by one stage (null without feature_flag, or when it will not advance)."
  value       = one(codomyrmex_feature_rollout.flag[*].next_advance_at)
}
