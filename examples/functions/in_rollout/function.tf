terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

# Which tenants the flag "new-checkout" exposes at 25 % and at 50 %. Raising
# the percentage only ever adds tenants: those in at 25 % stay in at 50 %.
locals {
  tenants = ["acme", "cyberdyne", "globex", "hooli", "initech", "tyrell"]
}

output "tenants_at_25" {
  value = [for t in local.tenants : t if provider::codomyrmex::in_rollout("new-checkout", t, 25)] # ["cyberdyne"]
}

output "tenants_at_50" {
  value = [for t in local.tenants : t if provider::codomyrmex::in_rollout("new-checkout", t, 50)] # ["cyberdyne", "globex", "initech", "tyrell"]
}
