package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testproc"
)

// agentProcess is the agent binary running in the background; it is
// killed at the end of the test if still running.
type agentProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	stdout *testproc.SyncBuffer
	stderr *testproc.SyncBuffer
	exited chan struct{}
}

// startProcess starts the binary and waits for its base URL.
func startProcess(t *testing.T, bin string, args ...string) *agentProcess {
	t.Helper()
	return startProcessIn(t, "", bin, args...)
}

// startProcessIn is startProcess in working directory dir.
func startProcessIn(t *testing.T, dir, bin string, args ...string) *agentProcess {
	t.Helper()
	p := &agentProcess{t: t, cmd: exec.Command(bin, args...), stdout: &testproc.SyncBuffer{}, stderr: &testproc.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd.Dir = dir
	outR, outW := io.Pipe()
	p.cmd.Stdout = io.MultiWriter(outW, p.stdout)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		outW.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	deadline := time.Now().Add(maxWait)
	for {
		if line, _, ok := strings.Cut(p.stdout.String(), "\n"); ok {
			if !baseURLPattern.MatchString(line) {
				t.Fatalf("first stdout line %q is not a base URL; stderr:\n%s", line, p.stderr)
			}
			p.base = line
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("%v exited before printing its address: %s; stderr:\n%s", args, p.cmd.ProcessState, p.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v printed no address within %s; stderr:\n%s", args, maxWait, p.stderr)
		}
	}
}

func (p *agentProcess) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("sending %s: %v", sig, err)
	}
}

// stop sends SIGTERM and fails the test unless the agent then exits 0.
func (p *agentProcess) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != 0 {
		p.t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, p.stderr)
	}
}

// writeTokenFile writes content to a file "token" in dir that only its
// owner can read, and returns its path.
func writeTokenFile(t *testing.T, dir, content string) string {
	t.Helper()
	return writeFile(t, filepath.Join(dir, "token"), content, 0o600)
}

// writeFile writes content to path with mode, whatever the umask, and
// returns path.
func writeFile(t *testing.T, path, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// commandLineCase is a command line run in process and what it should
// exit with and print.
type commandLineCase struct {
	name       string
	args       []string
	wantCode   int
	wantStderr string // a part of stderr
	wantStdout string // all of stdout, when not ""
}

// checkCommandLines runs each command line in a parallel subtest.
func checkCommandLines(t *testing.T, tests []commandLineCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if tt.wantStdout != "" && stdout.String() != tt.wantStdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *agentProcess) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(maxWait):
		p.t.Fatalf("no exit within %s; stderr:\n%s", maxWait, p.stderr)
		return -1
	}
}

// waitLog waits until stderr holds want and returns stderr.
func (p *agentProcess) waitLog(want string) string {
	p.t.Helper()
	deadline := time.Now().Add(maxWait)
	for {
		s := p.stderr.String()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("stderr never showed %q:\n%s", want, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answer is an HTTP call's outcome, made off the test goroutine.
type answer struct {
	status int
	body   string
	err    error
	at     time.Time
}

// do makes one call; it never fails the test (it may run in a goroutine).
func do(method, url, token, body string) answer {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return answer{err: err, at: time.Now()}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: maxWait}).Do(req)
	if err != nil {
		return answer{err: err, at: time.Now()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(b), err: err, at: time.Now()}
}
