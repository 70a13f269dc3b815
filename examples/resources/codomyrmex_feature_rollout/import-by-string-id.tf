import {
  to = codomyrmex_feature_rollout.new_checkout
  id = "new-checkout"
}
