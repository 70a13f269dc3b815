# Unit runs: the module's inputs against a mocked provider, no network.
# mock_provider and override_resource need Terraform >= 1.7 or
# OpenTofu >= 1.8.

mock_provider "codomyrmex" {
  mock_resource "codomyrmex_deployment" {
    defaults = {
      status = "completed"
    }
  }
}

variables {
  service_name    = "payments"
  service_version = "2.0.0"
  hosts = {
    "payments-1" = { address = "http://10.0.4.1:8080" }
    "payments-2" = { address = "http://10.0.4.2:8080" }
  }
}

run "defaults_to_rolling_one_at_a_time" {
  command = plan

  assert {
    condition     = codomyrmex_deployment.this.rolling.batch_size == 1 && codomyrmex_deployment.this.canary == null && codomyrmex_deployment.this.blue_green == null
    error_message = "the default strategy is rolling with batch_size 1"
  }
  assert {
    condition     = join(",", [for t in codomyrmex_deployment.this.targets : t.id]) == "payments-1,payments-2"
    error_message = "targets are the hosts, in the order of their keys"
  }
  assert {
    condition     = codomyrmex_deployment.this.analysis == null && codomyrmex_deployment.this.approve == null
    error_message = "no gate and no approval unless asked for"
  }
  assert {
    condition     = length(codomyrmex_feature_rollout.flag) == 0
    error_message = "no feature flag unless asked for"
  }
}

run "canary_with_gate_and_approval" {
  command = plan

  variables {
    strategy   = "canary"
    router_url = "http://10.0.4.100:7070"
    canary     = { stages = [10, 50, 100], stage_interval = "5m" }
    error_rate_gate = {
      prometheus_url = "http://prometheus.internal:9090"
      query          = "sum(rate(errors{version=\"{{version}}\"}[5m]))"
    }
    approval = { pause_at = 50, approved_version = "2.0.0" }
  }

  assert {
    condition     = codomyrmex_deployment.this.canary.stages == tolist([10, 50, 100]) && codomyrmex_deployment.this.canary.router_url == "http://10.0.4.100:7070"
    error_message = "canary stages and router come from the inputs"
  }
  assert {
    condition     = [for g in codomyrmex_deployment.this.canary.gates : g.at] == [50]
    error_message = "the approval pauses at pause_at"
  }
  assert {
    condition     = codomyrmex_deployment.this.approve.version == "2.0.0" && codomyrmex_deployment.this.approve.through == 50
    error_message = "approved_version opens the gates through pause_at"
  }
  assert {
    condition     = codomyrmex_deployment.this.analysis.metrics[0].max == 0.01 && codomyrmex_deployment.this.analysis.metrics[0].prometheus.address == "http://prometheus.internal:9090"
    error_message = "the error-rate gate measures with Prometheus, max 1 % by default"
  }
}

run "blue_green_approval_pauses_before_switch" {
  command = plan

  variables {
    strategy = "blue_green"
    hosts = {
      "b1" = { address = "http://10.0.5.1:8080", slot = "blue" }
      "g1" = { address = "http://10.0.5.2:8080", slot = "green" }
    }
    approval = {}
  }

  assert {
    condition     = codomyrmex_deployment.this.blue_green.pause_before_switch && codomyrmex_deployment.this.approve == null
    error_message = "an approval without approved_version pauses before the switch and opens nothing"
  }
}

run "live_version_while_paused_is_null" {
  variables {
    strategy = "canary"
    approval = {}
  }

  override_resource {
    target = codomyrmex_deployment.this
    values = {
      status          = "paused"
      paused_at       = 25
      target_versions = { "payments-1" = "2.0.0", "payments-2" = "1.0.0" }
    }
  }

  assert {
    condition     = output.status == "paused" && output.paused_at == 25 && output.live_version == null
    error_message = "a paused canary has no single live version"
  }
}

run "feature_flag_after_the_deployment" {
  command = plan

  variables {
    feature_flag = { name = "new-checkout", stage_delay = "1h", max_stage = 1 }
  }

  assert {
    condition     = codomyrmex_feature_rollout.flag[0].flag_name == "new-checkout" && codomyrmex_feature_rollout.flag[0].stages == tolist([5, 25, 50, 100]) && codomyrmex_feature_rollout.flag[0].max_stage == 1
    error_message = "the feature flag takes its name, default stages and max_stage"
  }
}

run "rejects_a_bad_name" {
  command = plan
  variables {
    service_name = "pay ments"
  }
  expect_failures = [var.service_name]
}

run "rejects_an_unknown_strategy" {
  command = plan
  variables {
    strategy = "big-bang"
  }
  expect_failures = [var.strategy]
}

run "rejects_an_address_without_scheme" {
  command = plan
  variables {
    hosts = { "payments-1" = { address = "10.0.4.1:8080" } }
  }
  expect_failures = [var.hosts]
}

run "rejects_a_pause_that_is_not_a_stage" {
  command = plan
  variables {
    strategy = "canary"
    approval = { pause_at = 30 }
  }
  expect_failures = [codomyrmex_deployment.this]
}

run "rejects_blue_green_without_slots" {
  command = plan
  variables {
    strategy = "blue_green"
  }
  expect_failures = [codomyrmex_deployment.this]
}

run "rejects_an_approval_on_rolling" {
  command = plan
  variables {
    approval = {}
  }
  expect_failures = [codomyrmex_deployment.this]
}
