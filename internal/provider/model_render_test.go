package provider

// How the model of model_ops_test.go is written: a configuration as HCL
// (render) and as one line (summary), faults as words.

import (
	"fmt"
	"strings"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

func (c *mConfig) delayLiteral() string {
	if c.BatchSize >= 10 {
		return modelLongDelays[c.Delay%len(modelLongDelays)]
	}
	return modelZeroDurations[c.Delay%len(modelZeroDurations)]
}

// settingLiteral is the HCL value of the strategy setting that FeedSetting
// routes through terraform_data: always spelled out there.
func (c *mConfig) settingLiteral(url string) string {
	switch c.Strategy {
	case "rolling":
		d := c.delayLiteral()
		if d == "" {
			d = "5s"
		}
		return fmt.Sprintf("%q", d)
	case "canary":
		return fmt.Sprintf("%q", modelZeroDurations[c.Interval%len(modelZeroDurations)])
	case "feature_flag":
		if r := modelRollouts[c.Rollout%len(modelRollouts)]; r != "" {
			return r
		}
		return "0"
	default:
		return fmt.Sprintf("%q", url+"/router")
	}
}

// render writes the whole main.tf body (after the required_providers block)
// for a fleet served at url.
func (c *mConfig) render(url string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
provider "codomyrmex" {
  flag_endpoint   = "%s/flags"
  request_timeout = "5s"
  retries         = 1
}

resource "terraform_data" "gen" {
  input = {
    k = "model"
`, url)
	if c.FeedVersion {
		fmt.Fprintf(&b, "    version = %q\n", c.Version)
	}
	if c.FeedIDs {
		var ids []string
		for _, t := range c.Targets {
			ids = append(ids, fmt.Sprintf("%s = %q", t.ID, t.ID))
		}
		fmt.Fprintf(&b, "    ids = { %s }\n", strings.Join(ids, ", "))
	}
	if c.FeedSetting {
		fmt.Fprintf(&b, "    setting = %s\n", c.settingLiteral(url))
	}
	if c.FeedApprove && c.ApproveVersion != "" {
		fmt.Fprintf(&b, "    approve = %q\n", c.ApproveVersion)
	}
	if c.feedsGates() {
		var gs, ws []string
		for _, g := range c.Gates {
			w := "null"
			if g.Wait != "" {
				w = fmt.Sprintf("%q", g.Wait)
			}
			gs = append(gs, fmt.Sprintf("{ at = %d, wait = %s }", g.At, w))
			ws = append(ws, fmt.Sprintf("g%d = %s", g.At, w))
		}
		if c.FeedGates == 1 {
			fmt.Fprintf(&b, "    gates = [%s]\n", strings.Join(gs, ", "))
		} else {
			fmt.Fprintf(&b, "    waits = { %s }\n", strings.Join(ws, ", "))
		}
	}
	fmt.Fprintf(&b, `  }
  triggers_replace = "token-%d"
}

resource "codomyrmex_deployment" "web" {
  name = "web"
  notifications = [{ url = "%s%s" }]
`, c.Token, url, modelEventsPath)
	if c.FeedVersion {
		b.WriteString("  version = terraform_data.gen.output.version\n")
	} else {
		fmt.Fprintf(&b, "  version = %q\n", c.Version)
	}
	switch {
	case !c.AutoRollback:
		b.WriteString("  auto_rollback = false\n")
	case c.AutoRollbackSet:
		b.WriteString("  auto_rollback = true\n")
	}
	hc := `interval = "10ms", timeout = "1s"`
	switch {
	case !c.ExpectVersion:
		hc += ", expect_version = false"
	case c.ExpectVersionSet:
		hc += ", expect_version = true"
	}
	fmt.Fprintf(&b, "  health_check = { %s }\n", hc)
	if c.ApproveVersion != "" {
		a := fmt.Sprintf("version = %q", c.ApproveVersion)
		if c.FeedApprove {
			a = "version = terraform_data.gen.output.approve"
		}
		if c.ApproveThrough != "" {
			a += ", through = " + c.ApproveThrough
		}
		fmt.Fprintf(&b, "  approve = { %s }\n", a)
	}
	b.WriteString("  targets = [\n")
	for _, t := range c.Targets {
		id := fmt.Sprintf("%q", t.ID)
		if c.FeedIDs {
			id = "terraform_data.gen.output.ids." + t.ID
		}
		fmt.Fprintf(&b, "    { id = %s, address = \"%s/t/%s\"", id, url, t.Fleet)
		if c.Strategy == "blue_green" {
			fmt.Fprintf(&b, ", slot = %q", t.Slot)
		}
		if t.EmptyName {
			b.WriteString(`, name = ""`)
		}
		b.WriteString(" },\n")
	}
	b.WriteString("  ]\n")
	fed := "terraform_data.gen.output.setting"
	var attrs []string
	switch c.Strategy {
	case "rolling":
		attrs = append(attrs, fmt.Sprintf("batch_size = %d", c.BatchSize))
		if c.FeedSetting {
			attrs = append(attrs, "batch_delay = "+fed)
		} else if d := c.delayLiteral(); d != "" {
			attrs = append(attrs, fmt.Sprintf("batch_delay = %q", d))
		}
		if c.MaxFailuresSet {
			attrs = append(attrs, "max_failures = 0")
		}
		fmt.Fprintf(&b, "  rolling = { %s }\n", strings.Join(attrs, ", "))
	case "blue_green":
		router := fmt.Sprintf("%q", url+"/router")
		if c.FeedSetting {
			router = fed
		}
		pause := ""
		if c.PauseBeforeSwitch {
			pause = ", pause_before_switch = true"
		}
		fmt.Fprintf(&b, "  blue_green = { router_url = %s%s }\n", router, pause)
	case "canary":
		if s := modelStages[c.Stages%len(modelStages)]; s != "" {
			attrs = append(attrs, "stages = "+s)
		}
		if c.FeedSetting {
			attrs = append(attrs, "stage_interval = "+fed)
		} else {
			attrs = append(attrs, fmt.Sprintf("stage_interval = %q", modelZeroDurations[c.Interval%len(modelZeroDurations)]))
		}
		if th := modelThresholds[c.Threshold%len(modelThresholds)]; th != "" {
			attrs = append(attrs, "success_threshold = "+th)
		}
		attrs = append(attrs, fmt.Sprintf("router_url = %q", url+"/router"))
		switch {
		case c.feedsGates() && c.FeedGates == 1:
			attrs = append(attrs, "gates = terraform_data.gen.output.gates")
		case len(c.Gates) > 0:
			var gs []string
			for _, g := range c.Gates {
				switch {
				case c.feedsGates():
					gs = append(gs, fmt.Sprintf("{ at = %d, wait = terraform_data.gen.output.waits.g%d }", g.At, g.At))
				case g.Wait == "":
					gs = append(gs, fmt.Sprintf("{ at = %d }", g.At))
				default:
					gs = append(gs, fmt.Sprintf("{ at = %d, wait = %q }", g.At, g.Wait))
				}
			}
			attrs = append(attrs, "gates = ["+strings.Join(gs, ", ")+"]")
		}
		fmt.Fprintf(&b, "  canary = { %s }\n", strings.Join(attrs, ", "))
	case "feature_flag":
		attrs = append(attrs, fmt.Sprintf("flag_name = %q", modelFlag))
		if c.FeedSetting {
			attrs = append(attrs, "initial_rollout = "+fed)
		} else if r := modelRollouts[c.Rollout%len(modelRollouts)]; r != "" {
			attrs = append(attrs, "initial_rollout = "+r)
		}
		fmt.Fprintf(&b, "  feature_flag = { %s }\n", strings.Join(attrs, ", "))
	}
	if c.Analysis {
		delay := ""
		if c.AnalysisDelay {
			delay = `, initial_delay = "300ms"`
		}
		fmt.Fprintf(&b, `  analysis = {
    interval = "500ms"%s
    metrics  = [{ name = "smoke", equals = "true", web = { url = "%s%s?v={{version}}&stage={{stage}}", json_path = "ok" } }]
  }
`, delay, url, modelCheckPath)
	}
	if c.Bake {
		b.WriteString("  bake = \"1s\"\n")
	}
	if c.UpdateTimeout != "" {
		fmt.Fprintf(&b, "  timeouts = { update = %q }\n", c.UpdateTimeout)
	}
	b.WriteString("}\n")
	return b.String()
}

// feedsGates: canary.gates go through terraform_data (an empty list is
// left out instead).
func (c *mConfig) feedsGates() bool {
	return c.FeedGates != 0 && c.Strategy == "canary" && len(c.Gates) > 0
}

// summary is a one-line human-readable form of the configuration.
func (c *mConfig) summary() string {
	var s []string
	switch c.Strategy {
	case "rolling":
		d := c.delayLiteral()
		if d == "" {
			d = "(5s)"
		}
		s = append(s, fmt.Sprintf("rolling{batch=%d delay=%s mf=%v}", c.BatchSize, d, c.MaxFailuresSet))
	case "blue_green":
		if c.PauseBeforeSwitch {
			s = append(s, "blue_green{router pause_before_switch}")
		} else {
			s = append(s, "blue_green{router}")
		}
	case "canary":
		st := modelStages[c.Stages%len(modelStages)]
		if st == "" {
			st = "(default)"
		}
		th := modelThresholds[c.Threshold%len(modelThresholds)]
		if th == "" {
			th = "(0.95)"
		}
		gates := ""
		if len(c.Gates) > 0 {
			var gs []string
			for _, g := range c.Gates {
				gs = append(gs, g.String())
			}
			gates = " gates=[" + strings.Join(gs, " ") + "]"
		}
		s = append(s, fmt.Sprintf("canary{stages=%s interval=%s threshold=%s router%s}", st, modelZeroDurations[c.Interval%len(modelZeroDurations)], th, gates))
	case "feature_flag":
		r := modelRollouts[c.Rollout%len(modelRollouts)]
		if r == "" {
			r = "(0)"
		}
		s = append(s, fmt.Sprintf("feature_flag{initial_rollout=%s}", r))
	}
	s = append(s, "version="+c.Version)
	ar := fmt.Sprint(c.AutoRollback)
	if c.AutoRollback && !c.AutoRollbackSet {
		ar = "(true)"
	}
	ev := fmt.Sprint(c.ExpectVersion)
	if c.ExpectVersion && !c.ExpectVersionSet {
		ev = "(true)"
	}
	s = append(s, "auto_rollback="+ar, "expect_version="+ev)
	if c.ApproveVersion != "" {
		th := c.ApproveThrough
		if th == "" {
			th = "(100)"
		}
		s = append(s, fmt.Sprintf("approve={%s through %s}", c.ApproveVersion, th))
	}
	var ts []string
	for _, t := range c.Targets {
		x := t.ID + "@" + t.Fleet
		if c.Strategy == "blue_green" {
			x += "/" + t.Slot
		}
		if t.EmptyName {
			x += `(name="")`
		}
		ts = append(ts, x)
	}
	s = append(s, "targets=["+strings.Join(ts, " ")+"]")
	if c.Analysis {
		a := "analysis"
		if c.AnalysisDelay {
			a += "(initial_delay 300ms)"
		}
		s = append(s, a)
	}
	if c.Bake {
		s = append(s, "bake=1s")
	}
	if c.UpdateTimeout != "" {
		s = append(s, "timeouts.update="+c.UpdateTimeout)
	}
	var fed []string
	if c.FeedVersion {
		fed = append(fed, "version")
	}
	if c.FeedIDs {
		fed = append(fed, "ids")
	}
	if c.FeedSetting {
		fed = append(fed, "setting")
	}
	if c.FeedApprove && c.ApproveVersion != "" {
		fed = append(fed, "approve")
	}
	switch {
	case !c.feedsGates():
	case c.FeedGates == 1:
		fed = append(fed, "gates")
	default:
		fed = append(fed, "gate waits")
	}
	if len(fed) > 0 {
		s = append(s, "via terraform_data: "+strings.Join(fed, ","))
	}
	s = append(s, fmt.Sprintf("token=%d", c.Token))
	return strings.Join(s, " ")
}

func describeFault(f simulator.Fault) string {
	var p []string
	if f.DeployStatus != 0 {
		p = append(p, fmt.Sprintf("deploy %d", f.DeployStatus))
	}
	if f.HealthStatus != 0 {
		p = append(p, fmt.Sprintf("health %d", f.HealthStatus))
	}
	if f.Unhealthy {
		p = append(p, "unhealthy")
	}
	if f.NoVersion {
		p = append(p, "no version")
	}
	if f.ReportVersion != "" {
		p = append(p, "reports "+f.ReportVersion)
	}
	if f.FailVersion != "" {
		p = append(p, "only "+f.FailVersion)
	}
	return strings.Join(p, ", ")
}

// CLI actions of a step.
const (
	cliNone     = ""
	cliApply    = "apply"
	cliPlanfile = "plan -out, then apply the saved plan"
	cliRefresh  = "apply -refresh-only"
	cliDestroy  = "destroy"
	// cliPlanAcross: apply First (a rollout that pauses at a time gate),
	// then plan -out with Cfg before the gate is due, wait until it is due,
	// and apply the saved plan.
	cliPlanAcross = "apply, plan -out before a time gate is due, apply the saved plan after it"
)
