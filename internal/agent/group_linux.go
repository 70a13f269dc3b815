//go:build linux

package agent

import "github.com/prometheus/procfs"

// groupAlive reports whether a process of group pgid is alive: zombies do
// not count (they cannot run or write; their parent, often init, reaps
// them when it will).
func groupAlive(pgid int) bool {
	if !groupExists(pgid) {
		return false
	}
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return true
	}
	procs, err := fs.AllProcs()
	if err != nil {
		return true
	}
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil {
			continue // gone meanwhile
		}
		if st.PGRP == pgid && st.State != "Z" && st.State != "X" {
			return true
		}
	}
	return false
}
