terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

# The token usually comes from the CODOMYRMEX_TOKEN environment variable and
# the flag service from CODOMYRMEX_FLAG_ENDPOINT; both can be set here too.
provider "codomyrmex" {
  flag_endpoint   = "https://flags.example.com"
  request_timeout = "15s"
  retries         = 3
  max_concurrency = 16

  headers = {
    "X-Team" = "payments"
  }
}

# Targets, routers and the flag service behind a private CA, with mutual TLS.
variable "client_key_pem" {
  type      = string
  sensitive = true
}

provider "codomyrmex" {
  alias = "internal"

  ca_cert_pem     = file("${path.module}/ca.pem")
  client_cert_pem = file("${path.module}/client.pem")
  client_key_pem  = var.client_key_pem
}
