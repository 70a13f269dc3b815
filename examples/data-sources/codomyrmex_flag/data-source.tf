# The flag document as the flag service holds it now (at the provider's
# flag_endpoint), whoever published it.
data "codomyrmex_flag" "checkout" {
  flag_name = "new-checkout"
}

output "checkout_percentage" {
  # null when the flag service does not hold the flag
  value = data.codomyrmex_flag.checkout.percentage
}

# Warns at every plan and apply while the flag is missing or aborted.
check "checkout_flag_live" {
  data "codomyrmex_flag" "checkout_now" {
    flag_name = "new-checkout"
    endpoint  = "https://flags.internal:7077"
  }

  assert {
    condition     = data.codomyrmex_flag.checkout_now.state != null && data.codomyrmex_flag.checkout_now.state != "aborted"
    error_message = "Flag new-checkout is ${coalesce(data.codomyrmex_flag.checkout_now.state, "missing")} at the flag service."
  }
}
