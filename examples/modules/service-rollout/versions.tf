terraform {
  # Optional object attributes with defaults need 1.3; the tests under
  # tests/ need `terraform test` with mock_provider (Terraform 1.7,
  # OpenTofu 1.8).
  required_version = ">= 1.3"

  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}
