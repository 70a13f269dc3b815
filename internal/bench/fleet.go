package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fleetStartTimeout bounds how long the simulator may take to print its
// address.
const fleetStartTimeout = 15 * time.Second

// fleet is a running `codomyrmex-agent simulate` process.
type fleet struct {
	URL     string
	Targets int
	cmd     *exec.Cmd
	exited  chan struct{}
	stderr  *os.File
}

// startFleet runs `agent simulate` with n targets on a free loopback port,
// every target at version and every call delayed by latency, and waits for
// the URL it prints on its first line. Its stderr goes to logFile.
func startFleet(ctx context.Context, agent string, n int, version string, latency time.Duration, logFile string) (*fleet, error) {
	errFile, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("simulated fleet: %w", err)
	}
	cmd := exec.Command(agent, "simulate",
		"--targets", strconv.Itoa(n),
		"--listen", "127.0.0.1:0",
		"--initial-version", version,
		"--latency", latency.String())
	cmd.Stderr = errFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		errFile.Close()
		return nil, fmt.Errorf("simulated fleet: %w", err)
	}
	if err := cmd.Start(); err != nil {
		errFile.Close()
		return nil, fmt.Errorf("starting the simulated fleet (%s): %w", agent, err)
	}
	f := &fleet{Targets: n, cmd: cmd, exited: make(chan struct{}), stderr: errFile}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- strings.TrimSpace(line)
		// Keep draining so the simulator never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, r)
	}()
	go func() {
		_ = cmd.Wait()
		close(f.exited)
	}()
	timer := time.NewTimer(fleetStartTimeout)
	defer timer.Stop()
	select {
	case line := <-lines:
		if !strings.HasPrefix(line, "http://") {
			f.stop()
			return nil, fmt.Errorf("simulated fleet printed %q instead of its URL (log: %s)", line, logFile)
		}
		f.URL = line
		return f, nil
	case <-timer.C:
		f.stop()
		return nil, fmt.Errorf("simulated fleet did not print its URL within %s (log: %s)", fleetStartTimeout, logFile)
	case <-ctx.Done():
		f.stop()
		return nil, fmt.Errorf("starting the simulated fleet: %w", ctx.Err())
	}
}

// stop interrupts the simulator and waits for it, killing it when it does
// not exit within a few seconds.
func (f *fleet) stop() {
	defer f.stderr.Close()
	select {
	case <-f.exited:
		return
	default:
	}
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.exited:
	case <-time.After(5 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.exited
	}
}

// TargetAddress is target i's base URL (i from 1).
func (f *fleet) TargetAddress(i int) string {
	return f.URL + "/t/t" + strconv.Itoa(i)
}

// fleetState is the part of GET /_sim/state the benchmark checks.
type fleetState struct {
	Targets map[string]string `json:"targets"`
	Calls   map[string]int    `json:"calls"`
}

// state reads the simulator's state: what each target runs and how many
// calls of each kind it received.
func (f *fleet) state(ctx context.Context) (fleetState, error) {
	var st fleetState
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL+"/_sim/state", nil)
	if err != nil {
		return st, fmt.Errorf("reading the fleet state: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("reading the fleet state: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("reading the fleet state: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("decoding the fleet state: %w", err)
	}
	return st, nil
}

// countAt counts the targets running version.
func (st fleetState) countAt(version string) int {
	n := 0
	for _, v := range st.Targets {
		if v == version {
			n++
		}
	}
	return n
}

// callsSince is the number of calls of each kind received since before.
func (st fleetState) callsSince(before fleetState) map[string]int {
	out := make(map[string]int, len(st.Calls))
	for kind, n := range st.Calls {
		if d := n - before.Calls[kind]; d != 0 {
			out[kind] = d
		}
	}
	return out
}

var errFleetStopped = errors.New("simulated fleet exited")

// alive reports errFleetStopped when the simulator is gone.
func (f *fleet) alive() error {
	select {
	case <-f.exited:
		return errFleetStopped
	default:
		return nil
	}
}
