package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/flags"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testcert"
)

func TestFlagsCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	notDir := filepath.Join(dir, "file")
	writeFile(t, notDir, "", 0o600)
	data := filepath.Join(dir, "data")
	checkCommandLines(t, []commandLineCase{
		{"no data dir", []string{"flags"}, exitUsage, "--data-dir is required", ""},
		{"half TLS", []string{"flags", "--data-dir", data, "--tls-key", "k.pem"}, exitUsage, "--tls-cert and --tls-key go together", ""},
		{"client CA without TLS", []string{"flags", "--data-dir", data, "--tls-client-ca", "ca.pem"}, exitUsage, "--tls-client-ca needs --tls-cert and --tls-key", ""},
		{"stray argument", []string{"flags", "--data-dir", data, "now"}, exitUsage, `unexpected argument "now"`, ""},
		{"missing token file", []string{"flags", "--data-dir", data, "--token-file", missing}, exitError, "reading --token-file", ""},
		{"missing OFREP token file", []string{"flags", "--data-dir", data, "--ofrep-token-file", missing}, exitError, "reading --ofrep-token-file", ""},
		{"missing TLS files", []string{"flags", "--data-dir", data, "--tls-cert", missing, "--tls-key", missing}, exitError, "loading --tls-cert/--tls-key", ""},
		{"data dir is a file", []string{"flags", "--data-dir", notDir, "--listen", "127.0.0.1:0"}, exitError, "creating the data directory", ""},
		{"bad listen address", []string{"flags", "--data-dir", data, "--listen", "127.0.0.1:99999"}, exitError, "listening on 127.0.0.1:99999", ""},
	})
	writeFile(t, filepath.Join(dir, "empty"), "\n", 0o600)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"flags", "--data-dir", data, "--ofrep-token-file", filepath.Join(dir, "empty")}, &stdout, &stderr); code != exitError ||
		!strings.Contains(stderr.String(), "--ofrep-token-file") || !strings.Contains(stderr.String(), "is empty") {
		t.Errorf("empty OFREP token file: exit %d, stderr %q", code, stderr.String())
	}
}

func TestFlagsHelp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"flags --data-dir DIR", "--ofrep-token-file PATH", `"codomyrmex-agent flags -h"`}},
		{[]string{"flags", "-h"}, []string{"-data-dir", "-listen", "-token-file", "-ofrep-token-file", "-tls-cert", "-tls-key", "-tls-client-ca", "-v"}},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stdout, &stderr); code != exitOK {
			t.Errorf("%v: exit code %d", tt.args, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%v: help lacks %q:\n%s", tt.args, w, stdout.String())
			}
		}
	}
}

// TestFlagsInProcess: the provider's client publishes, an OFREP call
// evaluates, and a restart on the same data directory finds the flag; a
// second service on a directory in use is refused.
func TestFlagsInProcess(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "flags")
	tokenFile := writeTokenFile(t, t.TempDir(), "flag-token\n")
	args := []string{"flags", "--listen", "127.0.0.1:0", "--data-dir", dir, "--token-file", tokenFile}
	base, stop := runInProcess(t, args...)
	ctx := context.Background()
	c, err := protocol.NewClient(protocol.ClientConfig{Token: "flag-token"})
	if err != nil {
		t.Fatal(err)
	}
	doc := protocol.Flag{Flag: "new-checkout", State: "active", Stage: 1, Percentage: 25, Stages: []float64{5, 25, 50, 100}, UpdatedAt: "2026-11-23T09:00:00Z"}
	if err := c.PublishFlag(ctx, base, doc); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"flags", "--listen", "127.0.0.1:0", "--data-dir", dir}, &stdout, &stderr); code != exitError ||
		!strings.Contains(stderr.String(), "in use by another flag service") {
		t.Errorf("second service on %s: exit %d, stderr %q", dir, code, stderr.String())
	}

	var e flags.Evaluation
	if code := call(t, http.MethodPost, base+"/ofrep/v1/evaluate/flags/new-checkout", "", `{"context":{"targetingKey":"user-1"}}`, &e); code != http.StatusOK ||
		e.Value != rollout.InRollout("new-checkout", "user-1", 25) || e.Reason != flags.ReasonSplit {
		t.Errorf("OFREP = %d %+v", code, e)
	}
	stop()

	base, stop = runInProcess(t, args...)
	if got, err := c.ReadFlag(ctx, base, "new-checkout"); err != nil || got.Percentage != 25 || got.Stage != 1 {
		t.Errorf("after restart ReadFlag = %+v, %v", got, err)
	}
	if err := c.DeleteFlag(ctx, base, "new-checkout"); err != nil {
		t.Fatal(err)
	}
	stop()
	base, stop = runInProcess(t, args...)
	if _, err := c.ReadFlag(ctx, base, "new-checkout"); err == nil {
		t.Error("a deleted flag came back after a restart")
	}
	stop()
}

// TestFlagsTLS: with --tls-cert and --tls-key both protocols are served
// over HTTPS, and the OFREP token is required when set.
func TestFlagsTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := testcert.NewCA(t, "flags CA")
	cert, key := ca.Issue(t, true)
	write := func(name, content string) string { return writeFile(t, filepath.Join(dir, name), content, 0o600) }
	base, stop := runInProcess(t, "flags", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"),
		"--tls-cert", write("cert.pem", cert), "--tls-key", write("key.pem", key), "--ofrep-token-file", write("ofrep", "read-tok"))
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base URL %s is not https", base)
	}
	c, err := protocol.NewClient(protocol.ClientConfig{CACertPEM: ca.PEM})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PublishFlag(context.Background(), base, protocol.Flag{Flag: "x", State: "completed", Percentage: 100}); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(ca.PEM)) {
		t.Fatal("no CA certificate")
	}
	httpClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}}}
	for token, want := range map[string]int{"": http.StatusUnauthorized, "read-tok": http.StatusOK} {
		req, _ := http.NewRequest(http.MethodPost, base+"/ofrep/v1/evaluate/flags/x", strings.NewReader(`{"context":{"targetingKey":"u"}}`))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("OFREP over TLS with token %q: %d, want %d", token, resp.StatusCode, want)
		}
	}
	stop()
}

// flagsProcess is the agent binary running flags, to be killed.
type flagsProcess struct {
	base   string
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *bytes.Buffer
}

func startFlags(t *testing.T, bin string, args ...string) *flagsProcess {
	t.Helper()
	p := &flagsProcess{cmd: exec.Command(bin, args...), exited: make(chan struct{}), stderr: &bytes.Buffer{}}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill(t) })
	p.base = firstLine(t, stdout)
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	return p
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (p *flagsProcess) kill(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(maxWait):
		t.Errorf("the agent did not die of SIGKILL within %s", maxWait)
	}
}

// absent is the expected "stage" of a flag that is deleted.
const absent = -1

// TestFlagsSurviveKill9 runs the real binary, has writers PUT and DELETE
// flags continuously, kills the process with SIGKILL at a random moment
// (often in the middle of a write), restarts it on the same data
// directory, and checks that every acknowledged write is there: each flag
// is at the last value acknowledged for it, or at the one write that was
// in flight when the process died (it may have been committed without its
// answer getting out). Each flag has a single writer, so "last" is well
// defined.
//
// SIGKILL does not lose the page cache: this checks that a write is
// acknowledged only after it is renamed into place, never half-written;
// the fsyncs that make it survive a power loss are checked in the order
// test of internal/flags.
func TestFlagsSurviveKill9(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	dir := filepath.Join(t.TempDir(), "data")
	tokenFile := writeTokenFile(t, t.TempDir(), "kill-token")
	args := []string{"flags", "--listen", "127.0.0.1:0", "--data-dir", dir, "--token-file", tokenFile}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	const (
		writers       = 4
		flagsPerOwner = 3
		rounds        = 8
	)
	// acked is each flag's last acknowledged stage (absent when deleted or
	// never written); inFlight the write that got no answer in the last
	// round, if any.
	acked := map[string]int{}
	for w := range writers {
		for i := range flagsPerOwner {
			acked[fmt.Sprintf("w%d-%d", w, i)] = absent
		}
	}
	inFlight := map[string]int{}
	totalAcked := 0

	verify := func(base, when string) {
		t.Helper()
		for name, want := range acked {
			var got protocol.Flag
			code := call(t, http.MethodGet, base+"/v1/flags/"+name, "kill-token", "", &got)
			stage := absent
			if code == http.StatusOK {
				stage = got.Stage
			} else if code != http.StatusNotFound {
				t.Fatalf("%s: GET %s = %d", when, name, code)
			}
			pending, hasPending := inFlight[name]
			if stage != want && (!hasPending || stage != pending) {
				t.Fatalf("%s: %s is at stage %d; the last acknowledged write left %d (in flight: %v %d)",
					when, name, stage, want, hasPending, pending)
			}
			if code == http.StatusOK && got.Percentage != float64(stage%101) {
				t.Fatalf("%s: %s = %+v, a document nobody wrote", when, name, got)
			}
			// What survived is now the durable value.
			acked[name] = stage
		}
		clear(inFlight)
	}

	for round := range rounds {
		p := startFlags(t, bin, args...)
		verify(p.base, fmt.Sprintf("after kill %d", round))

		killAfter := int64(1 + rng.IntN(40)) // acknowledged writes in this round before the kill
		var acks atomic.Int64
		var mu sync.Mutex // guards acked and inFlight while writers run
		var wg sync.WaitGroup
		seeds := make([]uint64, writers)
		for w := range seeds {
			seeds[w] = rng.Uint64()
		}
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wr := rand.New(rand.NewPCG(seeds[w], 2))
				client := &http.Client{Timeout: 10 * time.Second}
				for i := 0; i < 10000; i++ {
					name := fmt.Sprintf("w%d-%d", w, wr.IntN(flagsPerOwner))
					// Unique per flag: stage encodes round and sequence.
					stage := round*100000 + i
					method, body := http.MethodPut, ""
					if wr.IntN(8) == 0 {
						method, stage = http.MethodDelete, absent
					} else {
						b, _ := json.Marshal(protocol.Flag{Flag: name, State: "active", Stage: stage, Percentage: float64(stage % 101)})
						body = string(b)
					}
					mu.Lock()
					inFlight[name] = stage
					mu.Unlock()
					req, _ := http.NewRequest(method, p.base+"/v1/flags/"+name, strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer kill-token")
					resp, err := client.Do(req)
					if err != nil {
						return // killed: this write stays in flight
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 != 2 {
						t.Errorf("%s %s: %d", method, name, resp.StatusCode)
						return
					}
					mu.Lock()
					acked[name] = stage
					delete(inFlight, name)
					mu.Unlock()
					acks.Add(1)
				}
			}()
		}
		for deadline := time.Now().Add(maxWait); acks.Load() < killAfter && time.Now().Before(deadline); {
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		}
		p.kill(t)
		wg.Wait()
		if acks.Load() < killAfter {
			t.Fatalf("round %d: only %d writes acknowledged, stderr:\n%s", round, acks.Load(), p.stderr)
		}
		totalAcked += int(acks.Load())
	}

	p := startFlags(t, bin, args...)
	verify(p.base, "after the last kill")
	t.Logf("%d acknowledged writes over %d kills", totalAcked, rounds)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(maxWait):
		t.Fatal("no exit after SIGINT")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != flags.FileName && e.Name() != flags.LockName {
			t.Errorf("left in the data directory: %s", e.Name())
		}
	}
}
