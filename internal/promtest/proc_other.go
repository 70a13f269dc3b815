//go:build !linux

package promtest

import "os/exec"

func setProcAttr(*exec.Cmd) {}
