package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testcert"
)

// maxWait bounds every wait on a process or a line of output.
const maxWait = 20 * time.Second

func TestRunCommandLine(t *testing.T) {
	t.Parallel()

	missing := filepath.Join(t.TempDir(), "missing")
	checkCommandLines(t, []commandLineCase{
		{"no command", nil, exitUsage, "Usage:", ""},
		{"unknown command", []string{"deploy"}, exitUsage, `unknown command "deploy"`, ""},
		{"version flag", []string{"--version"}, exitOK, "", "codomyrmex-agent dev\n"},
		{"version command", []string{"version"}, exitOK, "", "codomyrmex-agent dev\n"},
		{"help", []string{"simulate", "-h"}, exitOK, "", ""},
		{"unknown flag", []string{"simulate", "--bogus"}, exitUsage, "flag provided but not defined: -bogus", ""},
		{"stray argument", []string{"simulate", "now"}, exitUsage, `unexpected argument "now"`, ""},
		{"serve without exec", []string{"serve"}, exitUsage, "--exec is required", ""},
		{"serve with half TLS", []string{"serve", "--exec", "true", "--tls-cert", "c.pem"}, exitUsage, "--tls-cert and --tls-key go together", ""},
		{"serve with missing TLS files", []string{"serve", "--exec", "true", "--tls-cert", missing, "--tls-key", missing}, exitError, "loading --tls-cert/--tls-key", ""},
		{"bad version pattern", []string{"serve", "--exec", "true", "--version-pattern", "("}, exitUsage, "serve: --version-pattern: version pattern \"(\"", ""},
		{"zero health timeout", []string{"serve", "--exec", "true", "--health-timeout", "0s"}, exitUsage, "serve: --health-timeout must be positive", ""},
		{"negative targets", []string{"simulate", "--targets", "-1"}, exitUsage, "--targets must be at least 1", ""},
		{"no targets", []string{"simulate", "--targets", "0"}, exitUsage, "--targets must be at least 1", ""},
		{"client CA without TLS", []string{"serve", "--exec", "true", "--tls-client-ca", "ca.pem"}, exitUsage, "--tls-client-ca needs --tls-cert and --tls-key", ""},
		{"fail version alone", []string{"simulate", "--fail-version", "v2"}, exitUsage, "--fail-version needs --fail-target", ""},
		{"error rate out of range", []string{"simulate", "--error-rate", "v2=1.5"}, exitUsage, "--error-rate v2=1.5: the rate must be a number in [0, 1]", ""},
		{"error rate without a version", []string{"simulate", "--error-rate", "0.2"}, exitUsage, "want VERSION=VALUE", ""},
		{"bad version latency", []string{"simulate", "--version-latency", "v2=soon"}, exitUsage, "want a duration such as 300ms", ""},
		{"negative rps", []string{"simulate", "--rps", "-1"}, exitUsage, "--rps must not be negative", ""},
		{"unknown fail target", []string{"simulate", "--targets", "2", "--fail-target", "t1,t3"}, exitUsage, `--fail-target "t3" is not a target`, ""},
		{"missing token file", []string{"simulate", "--token-file", missing}, exitError, "reading --token-file", ""},
		{"port in use or invalid", []string{"simulate", "--listen", "127.0.0.1:99999"}, exitError, "listening on 127.0.0.1:99999", ""},
	})
}

// TestSimulateServesMetrics: with --rps the simulator serves synthetic
// traffic at /metrics, a bad version's errors included.
func TestSimulateServesMetrics(t *testing.T) {
	t.Parallel()
	base, stop := runInProcess(t, "simulate", "--targets", "2", "--listen", "127.0.0.1:0", "--initial-version", "bad",
		"--rps", "200", "--error-rate", "bad=1", "--seed", "1")
	want := `codomyrmex_sim_requests_total{code="500",deployment="",target="t1",version="bad"}`
	deadline := time.Now().Add(maxWait)
	for {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %s:\n%s", want, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
}

// TestHelpOnStdout: help is read through a pager or grep, so it goes to
// stdout, and it names every flag and every variable a command gets.
func TestHelpOnStdout(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Usage:", "serve --exec CMD", "--tls-client-ca FILE", "--latency 0s", "--seed 0"}},
		{[]string{"serve", "--help"}, append(agent.DeployEnv(), "-health-exec", "CODOMYRMEX_VERSION (the running version)", "-tls-client-ca")},
		{[]string{"simulate", "-h"}, []string{"-targets", "-seed", "-latency", "-fail-target"}},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stdout, &stderr); code != exitOK {
			t.Errorf("%v: exit code %d", tt.args, code)
		}
		if stderr.Len() > 0 {
			t.Errorf("%v: help on stderr: %q", tt.args, stderr.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%v: help lacks %q:\n%s", tt.args, w, stdout.String())
			}
		}
	}
}

// TestUsageNamesEveryFlag: the top-level help is generated from the
// modes' flag sets, so it names every flag of every mode, and only those.
func TestUsageNamesEveryFlag(t *testing.T) {
	t.Parallel()
	help := usage()
	for _, m := range modes {
		fs := flag.NewFlagSet(m.name, flag.ContinueOnError)
		m.define(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(help, "--"+f.Name+" ") && !strings.Contains(help, "--"+f.Name+"]") {
				t.Errorf("usage lacks --%s of %s:\n%s", f.Name, m.name, help)
			}
		})
		if !strings.Contains(help, "codomyrmex-agent "+m.name+" ") {
			t.Errorf("usage lacks the %s mode", m.name)
		}
	}
	for _, line := range strings.Split(help, "\n") {
		if len(line) > usageWidth {
			t.Errorf("usage line longer than %d: %q", usageWidth, line)
		}
	}
}

// TestServeMutualTLS: with --tls-client-ca, a caller without a certificate
// signed by that CA is refused at the handshake; one with it is served.
func TestServeMutualTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	serverCA, clientCA := testcert.NewCA(t, "server CA"), testcert.NewCA(t, "client CA")
	cert, key := serverCA.Issue(t, true)
	write := func(name, content string) string { return writeFile(t, filepath.Join(dir, name), content, 0o600) }
	base, stop := runInProcess(t, "serve", "--listen", "127.0.0.1:0", "--exec", "true", "--state-file", "",
		"--tls-cert", write("cert.pem", cert), "--tls-key", write("key.pem", key), "--tls-client-ca", write("ca.pem", clientCA.PEM))

	clientCert, clientKey := clientCA.Issue(t, false)
	strangerCert, strangerKey := testcert.NewCA(t, "stranger").Issue(t, false)
	for _, tc := range []struct {
		name       string
		cert, key  string
		wantHealth bool
	}{
		{"no client certificate", "", "", false},
		{"certificate of another CA", strangerCert, strangerKey, false},
		{"certificate of the client CA", clientCert, clientKey, true},
	} {
		c, err := protocol.NewClient(protocol.ClientConfig{CACertPEM: serverCA.PEM, ClientCertPEM: tc.cert, ClientKeyPEM: tc.key, Retries: 0})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Health(context.Background(), base, "")
		if got := err == nil || strings.Contains(err.Error(), "status"); got != tc.wantHealth {
			t.Errorf("%s: health error %v, want served %v", tc.name, err, tc.wantHealth)
		}
	}
	stop()
}

// TestReadTokens: a token file holds one token a line (rotation), must be
// its owner's alone, and no error quotes its content.
func TestReadTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		want          []string
		wantErr       []string
	}{
		{"one token", "  abc123\n", 0o600, []string{"abc123"}, nil},
		{"two tokens and blank lines", "old-token\n\n  new-token  \r\n", 0o400, []string{"old-token", "new-token"}, nil},
		{"empty", "\n \n", 0o600, nil, []string{"is empty"}},
		{"readable by others", "secret-1\n", 0o644, nil, []string{"has mode 0644", "its group or others", "chmod 600"}},
		{"readable by the group", "secret-2\n", 0o640, nil, []string{"has mode 0640"}},
		{"writable by the group", "secret-3\n", 0o620, nil, []string{"has mode 0620"}},
		{"space inside a token", "secret 4\n", 0o600, nil, []string{"line 1 holds white space"}},
	} {
		path := writeFile(t, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")), tc.content, tc.mode)
		got, err := readTokens("--token-file", path)
		if tc.wantErr == nil {
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: %q accepted", tc.name, got)
			continue
		}
		for _, w := range append(tc.wantErr, "--token-file "+path) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error %q quotes the file", tc.name, err)
		}
	}
	if _, err := readTokens("--token-file", dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
	if _, err := readTokens("--token-file", filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "reading --token-file") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestSimulateInProcess runs simulate through run() and stops it by
// canceling its context, as SIGTERM does.
func TestSimulateInProcess(t *testing.T) {
	t.Parallel()

	base, stop := runInProcess(t, "simulate", "--targets", "2", "--listen", "127.0.0.1:0", "--initial-version", "v1",
		"--unhealthy-version", "bad")
	ctx := context.Background()

	c, err := protocol.NewClient(protocol.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := c.Health(ctx, base+"/t/t2", ""); err != nil || h.Version != "v1" {
		t.Errorf("Health(t2) = %+v, %v", h, err)
	}
	if err := c.Deploy(ctx, base+"/t/t1", protocol.DeployRequest{Version: "bad"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(ctx, base+"/t/t1", ""); err == nil || !strings.Contains(err.Error(), `status "error"`) {
		t.Errorf("Health of a target running the unhealthy version: %v", err)
	}

	stop()
}

// runInProcess runs the agent with args in this process and returns its
// base URL; stop (also run at cleanup) cancels it and fails the test when
// it does not exit, or exits with an error.
func runInProcess(t *testing.T, args ...string) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, args, outW, &stderr)
		outW.Close()
	}()
	base = firstLine(t, outR)
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != exitOK {
					t.Errorf("%s exited %d after cancel, stderr %q", args[0], code, stderr.String())
				}
			case <-time.After(maxWait):
				t.Errorf("%s did not stop after its context was canceled", args[0])
			}
		})
	}
	t.Cleanup(stop)
	return base, stop
}

var baseURLPattern = regexp.MustCompile(`^https?://127\.0\.0\.1:[0-9]+$`)

// firstLine reads the first line of r, which must be the base URL.
func firstLine(t *testing.T, r io.Reader) string {
	t.Helper()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		line = strings.TrimSuffix(line, "\n")
		if !baseURLPattern.MatchString(line) {
			t.Fatalf("first stdout line %q is not a base URL", line)
		}
		return line
	case <-time.After(maxWait):
		t.Fatal("no first line on stdout")
		return ""
	}
}

// buildAgent builds the binary once per test that needs it.
func buildAgent(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	bin := filepath.Join(t.TempDir(), "codomyrmex-agent")
	build := exec.Command(goTool, "build", "-ldflags", "-X main.version=9.9.9-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startAgent starts the binary and returns its base URL and a function
// that sends SIGTERM and returns the exit code.
func startAgent(t *testing.T, bin string, args ...string) (string, func() int) {
	t.Helper()
	base, signal := startAgentSignal(t, bin, args...)
	return base, func() int { return signal(true) }
}

// startAgentSignal is startAgent whose stop can also just send SIGTERM
// (wait false, returning -1) and leave the process running.
func startAgentSignal(t *testing.T, bin string, args ...string) (string, func(wait bool) int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	base := firstLine(t, stdout)
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(exited)
	}()
	return base, func(wait bool) int {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("sending SIGTERM: %v", err)
		}
		if !wait {
			return -1
		}
		select {
		case <-exited:
			if code := cmd.ProcessState.ExitCode(); code != 0 {
				t.Logf("stderr:\n%s", stderr.String())
				return code
			}
			return 0
		case <-time.After(maxWait):
			t.Fatalf("no exit within %s of SIGTERM", maxWait)
			return -1
		}
	}
}

// call makes one raw protocol call and decodes the JSON answer into out.
func call(t *testing.T, method, url, token, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("%s %s: decoding answer: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

func TestBinary(t *testing.T) {
	t.Parallel()

	bin := buildAgent(t)
	dir := t.TempDir()
	tokenFile := writeTokenFile(t, dir, "bin-token\n")

	t.Run("version", func(t *testing.T) {
		out, err := exec.Command(bin, "--version").Output()
		if err != nil || string(out) != "codomyrmex-agent 9.9.9-test\n" {
			t.Errorf("--version = %q, %v", out, err)
		}
	})

	t.Run("simulate", func(t *testing.T) {
		base, stop := startAgent(t, bin, "simulate", "--targets", "3", "--listen", "127.0.0.1:0",
			"--initial-version", "v1", "--token-file", tokenFile, "--fail-target", "t3", "--fail-version", "v2")

		var h protocol.Health
		if code := call(t, "GET", base+"/t/t2/v1/health", "bin-token", "", &h); code != 200 || h.Version != "v1" || h.Status != "ok" {
			t.Errorf("health = %d %+v", code, h)
		}
		if code := call(t, "GET", base+"/t/t2/v1/health", "", "", nil); code != 401 {
			t.Errorf("health without the token = %d, want 401", code)
		}
		if code := call(t, "PUT", base+"/t/t1/v1/deploy", "bin-token", `{"deployment":"web","version":"v2"}`, nil); code != 200 {
			t.Errorf("deploy t1 = %d", code)
		}
		if code := call(t, "PUT", base+"/t/t3/v1/deploy", "bin-token", `{"deployment":"web","version":"v2"}`, nil); code != 500 {
			t.Errorf("deploy to the failing target = %d, want 500", code)
		}
		var state struct {
			Targets map[string]string `json:"targets"`
		}
		if code := call(t, "GET", base+"/_sim/state", "", "", &state); code != 200 ||
			state.Targets["t1"] != "v2" || state.Targets["t2"] != "v1" || state.Targets["t3"] != "v1" {
			t.Errorf("state = %d %+v", code, state)
		}
		if code := stop(); code != 0 {
			t.Errorf("exit code %d after SIGTERM, want 0", code)
		}
	})

	t.Run("serve", func(t *testing.T) {
		runs := filepath.Join(dir, "runs.log")
		args := []string{"serve", "--listen", "127.0.0.1:0", "--token-file", tokenFile,
			"--state-file", filepath.Join(dir, "state.json"),
			"--exec", `echo "$CODOMYRMEX_VERSION $CODOMYRMEX_DEPLOYMENT" >> '` + runs + `'`}
		base, stop := startAgent(t, bin, args...)
		if code := call(t, "PUT", base+"/v1/deploy", "bin-token", `{"deployment":"web","version":"v5"}`, nil); code != 200 {
			t.Errorf("deploy = %d", code)
		}
		if code := stop(); code != 0 {
			t.Errorf("exit code %d after SIGTERM, want 0", code)
		}

		// A restart remembers v5.
		base, stop = startAgent(t, bin, args...)
		var h protocol.Health
		if code := call(t, "GET", base+"/v1/health", "bin-token", "", &h); code != 200 || h.Version != "v5" {
			t.Errorf("health after restart = %d %+v", code, h)
		}
		if code := stop(); code != 0 {
			t.Errorf("exit code %d after SIGTERM, want 0", code)
		}
		if data, err := os.ReadFile(runs); err != nil || string(data) != "v5 web\n" {
			t.Errorf("deploy command runs = %q, %v", data, err)
		}
	})
}

// waitForFile waits, boundedly, for a file a command creates.
func waitForFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(maxWait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s not created within %s", path, maxWait)
}

// TestSimulateHelpNamesTheMetric: `simulate -h` says what --rps traffic
// is counted as, labels included, so a query can be written from it.
func TestSimulateHelpNamesTheMetric(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "-h"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit code %d, stderr %q", code, stderr.String())
	}
	const want = "counted at /metrics as codomyrmex_sim_requests_total{deployment,target,version,code}"
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("simulate -h does not say %q:\n%s", want, stdout.String())
	}
}
