# live_version on blue/green: what the active slot runs (see outputs.tftest.hcl
# for why this is a file of its own).

mock_provider "codomyrmex" {}

variables {
  service_name    = "shop"
  service_version = "2.0.0"
  strategy        = "blue_green"
  hosts = {
    "b1" = { address = "http://10.0.5.1:8080", slot = "blue" }
    "g1" = { address = "http://10.0.5.2:8080", slot = "green" }
  }
}

run "blue_green_live_version_is_the_active_slot" {
  override_resource {
    target = codomyrmex_deployment.this
    values = {
      status          = "completed"
      active_slot     = "green"
      target_versions = { "b1" = "1.0.0", "g1" = "2.0.0" }
    }
  }

  assert {
    condition     = output.live_version == "2.0.0"
    error_message = "on blue/green, live_version is what the active slot runs"
  }
}
