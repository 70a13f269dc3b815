// Package testproc runs the servers tests start from the CLI cache (a real
// Prometheus for internal/promtest, a real Caddy for internal/caddytest):
// free ports, a child process with its log, a start retried when a port was
// taken, and a stop when the test ends. It also has the forking command
// with which the agent's tests show that a command it ends leaves no
// process of its group behind.
package testproc

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	stopGrace     = 5 * time.Second
	startAttempts = 3
	logTailLines  = 40
)

// Process is a running child process whose stdout and stderr go to a log
// file.
type Process struct {
	name    string // what messages call it: "prometheus", "caddy"
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed

	stopOnce sync.Once
	mu       sync.Mutex
	early    bool // it had exited before Stop was called
}

// Start starts cmd, called name in messages, with its stdout and stderr
// written to logPath. The
// process is killed when the test binary dies without running its cleanups
// (on Linux).
func Start(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	p := &Process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process exited, once Done is closed.
func (p *Process) Err() error { return p.waitErr }

// Stop stops the process (SIGTERM, then SIGKILL after 5 s) and waits for
// it to exit. It may be called more than once.
func (p *Process) Stop() {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			p.mu.Lock()
			p.early = true
			p.mu.Unlock()
		default:
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(stopGrace):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
	})
}

// exitedEarly says whether the process had exited before Stop was called.
func (p *Process) exitedEarly() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.early
}

// LogTail returns the last lines the process wrote to stdout and stderr.
func (p *Process) LogTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return strings.Join(lines, "\n")
}

// NotReady stops a process that did not become ready and returns err with
// the tail of its log, and whether the log says a port was taken between
// choosing it and the process binding it.
func (p *Process) NotReady(err error) (portTaken bool, _ error) {
	p.Stop()
	tail := p.LogTail()
	return strings.Contains(tail, "address already in use"), fmt.Errorf("%w; log tail:\n%s", err, tail)
}

// WaitReady calls ready every interval until it says yes. It fails with
// notReady once timeout has passed, and at once when the process exits
// first.
func (p *Process) WaitReady(timeout, interval time.Duration, ready func() bool, notReady error) error {
	deadline := time.Now().Add(timeout)
	for !ready() {
		if time.Now().After(deadline) {
			return notReady
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready: %w", p.name, p.waitErr)
		case <-time.After(interval):
		}
	}
	return nil
}

// Answers200 says whether a GET of url through client answers 200 OK.
func Answers200(client *http.Client, url string) bool {
	resp, err := client.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// StartRetrying calls start (attempt 1, 2, ...) until it succeeds, up to
// three times while it fails because a port was taken; any other failure
// is t.Fatal, with prefix. Once started, the process returned is stopped
// when the test ends, after stop (which should stop it, and may do more),
// and the test fails with the tail of its log when it had exited on its
// own.
func StartRetrying[S any](t testing.TB, prefix string, start func(attempt int) (s S, p *Process, portTaken bool, err error), stop func(S)) S {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, p, portTaken, err := start(attempt)
		if err == nil {
			t.Cleanup(func() {
				stop(s)
				if p.exitedEarly() {
					t.Errorf("%s: %s exited before the test stopped it (%v); log tail:\n%s", prefix, p.name, p.waitErr, p.LogTail())
				}
			})
			return s
		}
		if !portTaken || attempt == startAttempts {
			t.Fatalf("%s: %v", prefix, err)
		}
	}
}

// FreePorts returns n ports of 127.0.0.1 that were free a moment ago.
func FreePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("choosing a port: %w", err)
		}
		defer l.Close()
		addr, ok := l.Addr().(*net.TCPAddr)
		if !ok {
			return nil, fmt.Errorf("choosing a port: unexpected address %v", l.Addr())
		}
		ports = append(ports, addr.Port)
	}
	return ports, nil
}

// SyncBuffer is a bytes.Buffer that a process's output goroutines write
// while a test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
