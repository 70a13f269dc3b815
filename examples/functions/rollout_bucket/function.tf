terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

# The bucket of a key for a flag: a number in [0, 100), the same in every
# language that follows the documented algorithm, so an app and Terraform
# agree on who is in a rollout.
output "bucket_of_user_1" {
  value = provider::codomyrmex::rollout_bucket("new-checkout", "user-1") # 26.48
}
