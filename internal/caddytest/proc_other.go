//go:build !linux

package caddytest

import "os/exec"

func setProcAttr(*exec.Cmd) {}
