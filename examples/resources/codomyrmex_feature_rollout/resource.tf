# 5 → 25 → 50 → 100 % with at least a day between stages. Every scheduled
# apply (from CI) advances at most one stage, and plan shows the advance first.
resource "codomyrmex_feature_rollout" "new_checkout" {
  flag_name   = "new-checkout"
  stages      = [5, 25, 50, 100]
  stage_delay = "24h"

  # Not before Monday morning, and hold at 50 % (stage index 2) until the
  # team raises or removes max_stage.
  start_at  = "2030-01-07T09:00:00Z"
  max_stage = 2

  # Set to true to freeze the rollout; aborted = true turns the flag off (0 %).
  paused  = false
  aborted = false
}

# The percentage can feed other resources, here the tenants that get the new
# search. (With neither endpoint nor the provider's flag_endpoint set, a
# rollout lives in state only and is used exactly like this.)
resource "codomyrmex_feature_rollout" "search" {
  flag_name   = "search-v2"
  stages      = provider::codomyrmex::linear_stages(10, 10, 9) # 10, 20, ... 90, 100
  stage_delay = "6h"
}

locals {
  tenants = ["acme", "globex", "initech", "umbrella"]
  search_v2_tenants = [
    for t in local.tenants : t
    if provider::codomyrmex::in_rollout("search-v2", t, codomyrmex_feature_rollout.search.percentage)
  ]
}
