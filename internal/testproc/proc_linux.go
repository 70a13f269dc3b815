package testproc

import (
	"os/exec"
	"syscall"
)

// setProcAttr kills the process when the test binary dies without running
// its cleanups (a panic, go test's -timeout).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
