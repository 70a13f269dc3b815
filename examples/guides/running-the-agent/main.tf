terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

variable "hosts" {
  description = "Host name => base URL of the codomyrmex-agent serving on it."
  type        = map(string)
}

variable "app_version" {
  type = string
}

# The token comes from CODOMYRMEX_TOKEN: the same value as the agents'
# --token-file.
provider "codomyrmex" {}

resource "codomyrmex_deployment" "app" {
  name    = "app"
  version = var.app_version

  targets = [for name, url in var.hosts : {
    id       = name
    address  = url
    metadata = { host = name }
  }]

  rolling = {
    batch_size = 1
  }

  health_check = {
    # Generous: the deploy command restarts the service.
    timeout = "2m"
  }
}
