package agent

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/atomicfile"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// TestStateFilesAreDurable: the host's and the router's state files are
// replaced with a temporary file, fsync, rename and a directory fsync, so
// that a recorded deploy or route survives a power loss.
func TestStateFilesAreDurable(t *testing.T) {
	t.Parallel()
	want := []string{atomicfile.StepWrite, atomicfile.StepFsync, atomicfile.StepClose, atomicfile.StepRename, atomicfile.StepFsyncDir}
	dir := t.TempDir()

	h := mustHost(t, HostConfig{Exec: "true", StateFile: filepath.Join(dir, "host.json")})
	var hostSteps []string
	h.trace = func(step, path string) {
		hostSteps = append(hostSteps, step)
		if step == atomicfile.StepFsyncDir && path != dir {
			t.Errorf("host: fsync of %s, want %s", path, dir)
		}
	}
	if err := h.Deploy(context.Background(), protocol.DeployRequest{Deployment: "web", Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(hostSteps, want) {
		t.Errorf("host state write steps %v, want %v", hostSteps, want)
	}

	r := mustRouter(t, RouterConfig{Exec: "true", StateFile: filepath.Join(dir, "router.json")})
	var routerSteps []string
	r.trace = func(step, _ string) { routerSteps = append(routerSteps, step) }
	if err := r.SetWeights(context.Background(), protocol.WeightsRequest{Deployment: "web", Version: "v1", Percentage: 10}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(routerSteps, want) {
		t.Errorf("router state write steps %v, want %v", routerSteps, want)
	}
}
