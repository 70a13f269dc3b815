# Canary: 1 of 10 targets, then 3, 5, 7, 9 and finally all of them, with the
# router's weights following each stage and two minutes between stages.
# A stage with fewer than 95 % healthy targets stops the rollout and rolls
# every target it touched back to previous_version.
resource "codomyrmex_deployment" "web" {
  name    = "web"
  version = "3.0.0"

  targets = [for i in range(1, 11) : {
    id       = "web-${i}"
    address  = "http://10.0.3.${i}:8080"
    metadata = { zone = i <= 5 ? "a" : "b" }
  }]

  canary = {
    stages            = provider::codomyrmex::linear_stages(10, 20, 5) # [10, 30, 50, 70, 90, 100]
    stage_interval    = "2m"
    success_threshold = 0.95
    router_url        = "http://10.0.3.100:7070"
  }

  timeouts = {
    create = "45m"
    update = "45m"
  }
}
