terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}

# Step-based canary stages, always ending with 100.
output "stages" {
  value = provider::codomyrmex::linear_stages(10, 20, 5) # [10, 30, 50, 70, 90, 100]
}

# Five stages of 5 % before going to everybody.
output "cautious_stages" {
  value = provider::codomyrmex::linear_stages(5, 5, 5) # [5, 10, 15, 20, 25, 100]
}
