# The outputs after a completed release. A file of its own: each test file
# starts from an empty state, and Terraform (unlike OpenTofu) applies a
# run's override values only to a resource the file's state does not hold
# yet (an update or a replacement keeps the mock's values): one applying
# run with overrides per file.

mock_provider "codomyrmex" {}

variables {
  service_name    = "payments"
  service_version = "2.0.0"
  hosts = {
    "payments-1" = { address = "http://10.0.4.1:8080" }
    "payments-2" = { address = "http://10.0.4.2:8080" }
  }
}

run "live_version_when_all_agree" {
  override_resource {
    target = codomyrmex_deployment.this
    values = {
      status          = "completed"
      target_versions = { "payments-1" = "2.0.0", "payments-2" = "2.0.0" }
      changed_targets = ["payments-1", "payments-2"]
    }
  }

  assert {
    condition     = output.status == "completed" && output.live_version == "2.0.0"
    error_message = "live_version is the version every host reports"
  }
  assert {
    condition     = output.changed_targets == tolist(["payments-1", "payments-2"])
    error_message = "changed_targets is the deployment's"
  }
}
