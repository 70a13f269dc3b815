# A rollout is imported by its flag name; the provider reads the flag
# document from the provider's flag_endpoint.
terraform import codomyrmex_feature_rollout.new_checkout new-checkout
