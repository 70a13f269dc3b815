# Integration runs against a real fleet, `codomyrmex-agent simulate` with
# its targets running 1.0.0. The command line gives the module its hosts
# (four of the fleet's targets) and router, the environment the provider's
# flag service:
#
#   codomyrmex-agent simulate --targets 4 --initial-version 1.0.0 --listen 127.0.0.1:7070 &
#   u=http://127.0.0.1:7070
#   export CODOMYRMEX_FLAG_ENDPOINT=$u/flags
#   terraform test -test-directory=tests/integration -var router_url=$u/router \
#     -var "hosts={t1={address=\"$u/t/t1\"},t2={address=\"$u/t/t2\"},t3={address=\"$u/t/t3\"},t4={address=\"$u/t/t4\"}}"
#
# (Terraform 1.8 cannot take the fleet's address as a variable of the test
# file itself: its runs then see the derived values as unknown.) The
# repository's acceptance tests start the fleet and run this.

variables {
  service_name    = "payments"
  service_version = "2.0.0"
  strategy        = "canary"
  canary          = { stages = [50, 100], stage_interval = "0s" }
}

run "canary_pauses_for_approval" {
  variables {
    approval = { pause_at = 50 }
  }

  assert {
    condition     = output.status == "paused" && output.paused_at == 50
    error_message = "the canary waits at 50 % for its approval"
  }
  assert {
    condition     = output.changed_targets == tolist(["t1", "t2"]) && output.live_version == null
    error_message = "half the hosts run 2.0.0, so no single version is live"
  }
  assert {
    condition     = output.previous_version == "1.0.0"
    error_message = "previous_version is what the fleet ran"
  }
}

run "approval_completes_the_release" {
  variables {
    approval = { pause_at = 50, approved_version = "2.0.0" }
  }

  assert {
    condition     = output.status == "completed" && output.live_version == "2.0.0" && output.traffic_percentage == 100
    error_message = "the approved release completes"
  }
  assert {
    condition     = output.changed_targets == tolist(["t3", "t4"])
    error_message = "the approval deploys the hosts after the pause"
  }
}

run "feature_flag_goes_up_after_it" {
  variables {
    approval     = { pause_at = 50, approved_version = "2.0.0" }
    feature_flag = { name = "new-checkout", stage_delay = "1h" }
  }

  assert {
    condition     = output.flag_percentage == 5 && output.flag_next_advance_at != null
    error_message = "the flag is published at its first stage"
  }
  assert {
    condition     = output.status == "completed" && output.live_version == "2.0.0"
    error_message = "adding the flag leaves the release as it was"
  }
}

run "next_release_rolls_two_at_a_time" {
  variables {
    service_version = "2.1.0"
    strategy        = "rolling"
    batch_size      = 2
  }

  assert {
    condition     = output.status == "completed" && output.live_version == "2.1.0" && output.previous_version == "2.0.0"
    error_message = "the next release completes on every host"
  }
}

# Destroying the module deploys previous_version (2.0.0) back.
