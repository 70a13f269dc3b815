//go:build !unix

package agent

import (
	"os"
	"os/exec"
)

// Without process groups only the command's own process is signalled.

var (
	sigTerm = os.Kill
	sigKill = os.Kill
)

func setProcessGroup(*exec.Cmd) {}

func signalGroup(pid int, sig os.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Signal(sig)
}

func groupAlive(int) bool { return false }
