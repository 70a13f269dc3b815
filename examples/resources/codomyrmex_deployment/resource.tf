# Rolling (the default strategy): two targets at a time, in list order, each
# one health-checked before the next batch starts.
resource "codomyrmex_deployment" "api" {
  name    = "api"
  version = "2.4.1"

  targets = [for i in range(1, 7) : {
    id      = "api-${i}"
    address = "http://10.0.1.${i}:8080"
  }]

  rolling = {
    batch_size   = 2
    batch_delay  = "10s"
    max_failures = 0
  }

  health_check = {
    path    = "/v1/health"
    timeout = "60s"
  }
}
