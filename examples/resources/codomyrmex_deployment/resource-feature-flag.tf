# Feature flag: every target gets the version at once (a dark launch), then
# the flag is published at initial_rollout percent, here 0 %: the new code
# path stays off until the flag is raised. Every apply that deploys a new
# version publishes the flag at initial_rollout again. Needs the provider's
# flag_endpoint.
resource "codomyrmex_deployment" "checkout" {
  name    = "checkout"
  version = "7.0.0"

  targets = [for i in range(1, 5) : {
    id      = "checkout-${i}"
    address = "https://checkout-${i}.internal.example.com"
  }]

  feature_flag = {
    flag_name       = "new-checkout"
    initial_rollout = 0
  }

  # Forget the deployment on destroy instead of deploying previous_version back.
  on_destroy = "none"
}
