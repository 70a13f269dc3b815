package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// TestHostHistory: every deploy call is in the history, with its caller
// and result; the last HistoryLength are kept, across restarts.
func TestHostHistory(t *testing.T) {
	t.Parallel()
	cfg := HostConfig{Exec: `test "$CODOMYRMEX_VERSION" != bad`, StateFile: filepath.Join(t.TempDir(), "state.json")}
	h := mustHost(t, cfg)
	ctx := protocol.WithCall(context.Background(), &protocol.Call{Caller: "192.0.2.7:4000"})
	_ = h.Deploy(ctx, protocol.DeployRequest{Deployment: "web", Version: "1.0.0", TargetID: "web-1"})
	_ = h.Deploy(ctx, protocol.DeployRequest{Deployment: "web", Version: "bad", TargetID: "web-1"})
	_ = h.Deploy(ctx, protocol.DeployRequest{Deployment: "web", Version: "../x", TargetID: "web-1"})
	_ = h.Deploy(ctx, protocol.DeployRequest{Deployment: "web", Version: "1.0.0", TargetID: "web-1"})
	got := h.History().Calls
	want := []struct {
		version, previous, result string
		unchanged, hasErr         bool
	}{
		{"1.0.0", "", ResultSucceeded, false, false},
		{"bad", "1.0.0", ResultFailed, false, true},
		{"../x", "", ResultRefused, false, true},
		{"1.0.0", "1.0.0", ResultSucceeded, true, false},
	}
	if len(got) != len(want) {
		t.Fatalf("history %+v", got)
	}
	for i, w := range want {
		c := got[i]
		if c.Version != w.version || c.PreviousVersion != w.previous || c.Result != w.result || c.Unchanged != w.unchanged ||
			(c.Error != "") != w.hasErr || c.Caller != "192.0.2.7:4000" || c.Action != "deploy" || c.Deployment != "web" ||
			c.TargetID != "web-1" || c.Time.IsZero() {
			t.Errorf("call %d = %+v, want %+v", i, c, w)
		}
	}

	for i := range HistoryLength {
		_ = h.Deploy(ctx, protocol.DeployRequest{Deployment: "web", Version: fmt.Sprintf("2.0.%d", i)})
	}
	h2 := mustHost(t, cfg)
	calls := h2.History().Calls
	if len(calls) != HistoryLength || calls[0].Version != "2.0.0" || calls[HistoryLength-1].Version != fmt.Sprintf("2.0.%d", HistoryLength-1) {
		t.Errorf("after %d more calls and a restart: %d calls, from %s to %s", HistoryLength, len(calls), calls[0].Version, calls[len(calls)-1].Version)
	}
	if h2.Version() != fmt.Sprintf("2.0.%d", HistoryLength-1) {
		t.Errorf("running version %q after the restart", h2.Version())
	}
}

// TestRouterHistory: switch and weights calls are in the history, the
// runs of Reapply are not; it survives a restart.
func TestRouterHistory(t *testing.T) {
	t.Parallel()
	cfg := RouterConfig{Exec: `test "$CODOMYRMEX_VERSION" != bad`, StateFile: filepath.Join(t.TempDir(), "router.json")}
	r := mustRouter(t, cfg)
	ctx := protocol.WithCall(context.Background(), &protocol.Call{Caller: "192.0.2.8:4000"})
	_ = r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web", Version: "2.0.0", Percentage: 25})
	_ = r.Switch(ctx, protocol.SwitchRequest{Deployment: "shop", Slot: "green", Version: "bad"})
	if err := r.Reapply(context.Background()); err != nil {
		t.Fatal(err)
	}
	r2 := mustRouter(t, cfg)
	calls := r2.History().Calls
	if len(calls) != 2 {
		t.Fatalf("history %+v, want the 2 calls", calls)
	}
	if c := calls[0]; c.Action != ActionWeights || c.Percentage == nil || *c.Percentage != 25 || c.Result != ResultSucceeded || c.Caller != "192.0.2.8:4000" {
		t.Errorf("weights call %+v", c)
	}
	if c := calls[1]; c.Action != ActionSwitch || c.Slot != "green" || c.Result != ResultFailed || c.Error == "" {
		t.Errorf("switch call %+v", c)
	}
	if w := r2.State().Deployments["web"].Weights["2.0.0"]; w != 25 {
		t.Errorf("routes after the restart: %v", r2.State())
	}
}
