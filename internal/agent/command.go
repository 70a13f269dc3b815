package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync/atomic"
	"time"
)

// KillGrace is how long the processes of a command that is stopped (its
// timeout, the agent's shutdown) or that failed get between SIGTERM and
// SIGKILL.
const KillGrace = 5 * time.Second

// reapTimeout bounds the wait for a process group to die after SIGKILL.
const reapTimeout = 2 * time.Second

// errShuttingDown is the cause of the context of every command the agent
// stops because it is shutting down.
var errShuttingDown = errors.New("the agent is shutting down")

// command is one run of an operator's command with sh -c.
type command struct {
	line string
	env  []string
	// stdout, when set, receives the standard output alone; the output
	// tail then holds the standard error only.
	stdout io.Writer
	grace  time.Duration
}

// commandResult is how a command ended.
type commandResult struct {
	out *tailBuffer
	err error
	// canceled is set when the command was still running when its context
	// ended (its timeout, or a stop), and got SIGTERM for it.
	canceled bool
	// stopped says how the process group was ended after a failure or a
	// stop ("" when it was left alone).
	stopped string
}

// run runs the command in a process group of its own. When ctx is done
// the group gets SIGTERM, and SIGKILL grace later. When the command failed
// or was stopped, run returns only once no process of the group is alive
// (zombies aside: they cannot write): nothing the command started in the
// background may act after its failure is answered, such as a deploy that
// goes on while the provider rolls back. A command that succeeded may leave
// processes behind (a daemon it started), as long as they do not hold its
// output open past grace.
func (c command) run(ctx context.Context) commandResult {
	res := commandResult{out: &tailBuffer{max: outputTailBytes}}
	grace := c.grace
	if grace <= 0 || grace > KillGrace {
		grace = KillGrace
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", c.line)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = res.out, res.out
	if c.stdout != nil {
		cmd.Stdout = c.stdout
	}
	setProcessGroup(cmd)
	// When the stop began, for the SIGKILL deadline.
	var stopAt atomic.Int64
	cmd.Cancel = func() error {
		stopAt.CompareAndSwap(0, time.Now().UnixNano())
		return signalGroup(cmd.Process.Pid, sigTerm)
	}
	// After the SIGTERM (or after the command exited), Wait gives the
	// group grace to release the output pipes, then closes them: a
	// background process cannot hold the answer.
	cmd.WaitDelay = grace
	if err := cmd.Start(); err != nil {
		res.err = err
		return res
	}
	res.err = cmd.Wait()
	if res.err == nil && ctx.Err() == nil {
		return res
	}
	start := time.Now()
	if ns := stopAt.Load(); ns != 0 {
		start, res.canceled = time.Unix(0, ns), true
	}
	res.stopped = endGroup(cmd.Process.Pid, start.Add(grace), grace)
	if res.stopped == "" && res.canceled {
		res.stopped = "its processes ended on SIGTERM"
	}
	return res
}

// endGroup ends process group pgid: SIGTERM, SIGKILL at deadline if any
// process of it is still alive, and a wait until none is. It says what it
// took, "" when the group was already gone.
func endGroup(pgid int, deadline time.Time, grace time.Duration) string {
	if !groupAlive(pgid) {
		return ""
	}
	_ = signalGroup(pgid, sigTerm)
	if waitGroupGone(pgid, deadline) {
		return "its processes ended on SIGTERM"
	}
	_ = signalGroup(pgid, sigKill)
	if waitGroupGone(pgid, time.Now().Add(reapTimeout)) {
		return fmt.Sprintf("its processes got SIGKILL %s after SIGTERM", grace)
	}
	return fmt.Sprintf("processes of its group (%d) survived SIGKILL for %s", pgid, reapTimeout)
}

// waitGroupGone polls until no process of group pgid is alive, or until
// deadline; it reports whether the group is gone.
func waitGroupGone(pgid int, deadline time.Time) bool {
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		if !groupAlive(pgid) {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(wait, left))
	}
}

// describe says how a command ended: its exit status, a timeout, a stop,
// or why it could not start; and what was done to its processes.
func (r commandResult) describe(ctx context.Context, timeout time.Duration) string {
	var s string
	var exitErr *exec.ExitError
	switch {
	case r.canceled && errors.Is(context.Cause(ctx), errShuttingDown):
		s = "was stopped: " + errShuttingDown.Error()
	case r.canceled && errors.Is(ctx.Err(), context.DeadlineExceeded):
		s = fmt.Sprintf("timed out after %s", timeout)
	case r.canceled:
		s = "was stopped: its caller went away"
	case errors.Is(r.err, exec.ErrWaitDelay):
		s = "exited, but processes it started kept its output open"
	case errors.As(r.err, &exitErr):
		if code := exitErr.ExitCode(); code >= 0 {
			s = fmt.Sprintf("exited with status %d", code)
		} else {
			s = "was stopped: " + exitErr.String()
		}
	case r.err != nil:
		s = "could not run: " + r.err.Error()
	}
	if r.stopped != "" {
		s += " (" + r.stopped + ")"
	}
	return s
}

// commandContext is the context a command runs under: ctx's values, and
// its cancellation unless detach is set (a deploy or a router call outlives
// its caller, whose retry then finds it done); cancelled with
// errShuttingDown once stopping is; and bounded by timeout (0: no bound).
func commandContext(ctx, stopping context.Context, detach bool, timeout time.Duration) (context.Context, context.CancelFunc) {
	if detach {
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stopAfter := context.AfterFunc(stopping, func() { cancel(context.Cause(stopping)) })
	cancelAll := func() {
		stopAfter()
		cancel(context.Canceled)
	}
	if timeout <= 0 {
		return ctx, cancelAll
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	return ctx, func() {
		cancelTimeout()
		cancelAll()
	}
}

// stopper is what Host and Router share to stop their commands at shutdown.
type stopper struct {
	stopping context.Context
	stop     context.CancelCauseFunc
}

func newStopper() stopper {
	ctx, cancel := context.WithCancelCause(context.Background())
	return stopper{stopping: ctx, stop: cancel}
}

// Stop ends every command in progress (SIGTERM to its process group,
// SIGKILL after the grace) and refuses to start new ones: the agent is
// shutting down. The calls concerned answer that the command was stopped.
func (s stopper) Stop() { s.stop(errShuttingDown) }

// stopped returns errShuttingDown once Stop was called.
func (s stopper) stopped() error {
	if s.stopping.Err() != nil {
		return errShuttingDown
	}
	return nil
}

// waitFree waits until the one-slot semaphore sem (Host.deploying,
// Router.busy) can be taken, and gives it back at once; or until ctx is
// done.
func waitFree(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		<-sem
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loggerOrDiscard is l, or a logger that writes nothing when l is nil (a
// HostConfig or RouterConfig without a Logger).
func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
