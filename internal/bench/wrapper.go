package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Environment through which the driver talks to the copy of itself that the
// CLI starts as its provider plugin (the CLI passes its environment on to
// plugins).
const (
	// EnvWrapProvider is the real provider binary: the wrapper runs it as a
	// child, stdio passed through, and records what the child used.
	EnvWrapProvider = "CODOMYRMEX_BENCH_PROVIDER"
	// EnvUsageFile is where the wrapper appends one line per provider
	// process: "<pid> <peak RSS in KiB> <user CPU µs> <system CPU µs>".
	EnvUsageFile = "CODOMYRMEX_BENCH_USAGE_FILE"
	// EnvProfileDir, when set instead of EnvWrapProvider, makes the copy
	// serve the provider in process and write a CPU profile per process
	// there (see cmd/codomyrmex-bench).
	EnvProfileDir = "CODOMYRMEX_BENCH_PROFILE_DIR"
)

// RunWrapper runs the provider binary named by EnvWrapProvider as a child
// with args, stdin, stdout and stderr passed through (the plugin handshake
// goes through stdout), forwards SIGINT and SIGTERM to it, and when it exits
// appends its resource usage to EnvUsageFile. It returns the child's exit
// code.
func RunWrapper(args []string) int {
	providerBin := os.Getenv(EnvWrapProvider)
	cmd := exec.Command(providerBin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The CLI interrupts its plugins on Ctrl-C; the child decides what to do.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "codomyrmex-bench wrapper: starting %s: %v\n", providerBin, err)
		return 1
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	if file := os.Getenv(EnvUsageFile); file != "" && cmd.ProcessState != nil {
		if werr := appendUsage(file, cmd.ProcessState); werr != nil {
			fmt.Fprintf(os.Stderr, "codomyrmex-bench wrapper: %v\n", werr)
		}
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "codomyrmex-bench wrapper: %s: %v\n", providerBin, err)
		return 1
	}
}

// appendUsage records the peak RSS and CPU time of a process that exited.
// Linux reports Maxrss in KiB.
func appendUsage(file string, st *os.ProcessState) error {
	ru, ok := st.SysUsage().(*syscall.Rusage)
	if !ok {
		return fmt.Errorf("no resource usage for provider process %d", st.Pid())
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("recording provider usage: %w", err)
	}
	_, err = fmt.Fprintf(f, "%d %d %d %d\n", st.Pid(), ru.Maxrss, st.UserTime().Microseconds(), st.SystemTime().Microseconds())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("recording provider usage in %s: %w", file, err)
	}
	return nil
}

// Usage sums up the provider processes of one CLI command.
type Usage struct {
	Processes int
	PeakRSS   int64         // bytes, the highest of any process
	CPU       time.Duration // user + system, all processes together
}

// ReadUsage reads a usage file written by wrappers. A missing file means
// no provider process ran.
func ReadUsage(file string) (Usage, error) {
	var u Usage
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return u, nil
	}
	if err != nil {
		return u, fmt.Errorf("reading provider usage: %w", err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 4 {
			return u, fmt.Errorf("%s line %d: want \"<pid> <KiB> <user µs> <system µs>\", got %q", file, i+1, line)
		}
		var n [3]int64
		for j := range n {
			if n[j], err = strconv.ParseInt(fields[j+1], 10, 64); err != nil {
				return u, fmt.Errorf("%s line %d: %w", file, i+1, err)
			}
		}
		u.Processes++
		u.PeakRSS = max(u.PeakRSS, n[0]*1024)
		u.CPU += time.Duration(n[1]+n[2]) * time.Microsecond
	}
	return u, nil
}
