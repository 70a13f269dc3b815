package testproc

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/procfs"
)

// groupFileWait bounds GroupOf's wait for a command to record its group.
const groupFileWait = 10 * time.Second

// ForkingCommand is a shell command that records its process group in
// dir/pgid, starts a background grandchild that appends to dir/late.log
// after late, then runs tail. With ignoreTERM the grandchild ignores
// SIGTERM (only SIGKILL ends it). Tests of the commands the agent runs use
// it to show that a command ended, failed or stopped leaves nothing behind.
func ForkingCommand(dir string, late time.Duration, ignoreTERM bool, tail string) string {
	trap := ""
	if ignoreTERM {
		trap = "trap '' TERM; "
	}
	return fmt.Sprintf(`echo $$ > '%[1]s/pgid.tmp' && mv '%[1]s/pgid.tmp' '%[1]s/pgid'
( %[2]ssleep %[3]g; echo "${CODOMYRMEX_VERSION:-} written late" >> '%[1]s/late.log' ) &
%[4]s`, dir, trap, late.Seconds(), tail)
}

// GroupOf waits, boundedly, for the process group a ForkingCommand
// records in dir, and returns it.
func GroupOf(t testing.TB, dir string) int {
	t.Helper()
	file := filepath.Join(dir, "pgid")
	var data []byte
	var err error
	for deadline := time.Now().Add(groupFileWait); ; time.Sleep(10 * time.Millisecond) {
		if data, err = os.ReadFile(file); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("the command did not record its process group within %s: %v", groupFileWait, err)
	}
	pgid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pgid
}

// liveInGroup lists the processes of group pgid that are alive (not
// zombies: those can no longer run or write).
func liveInGroup(t testing.TB, pgid int) []string {
	t.Helper()
	procs, err := procfs.AllProcs()
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil {
			continue // gone meanwhile
		}
		if st.PGRP == pgid && st.State != "Z" && st.State != "X" {
			live = append(live, fmt.Sprintf("%d %s (%s)", st.PID, st.Comm, st.State))
		}
	}
	return live
}

// CheckGroupEnded fails the test when a process of the group of the
// ForkingCommand in dir is alive once its failure is answered, or when
// the grandchild writes, even after it was due.
func CheckGroupEnded(t testing.TB, dir string, due time.Time) {
	t.Helper()
	pgid := GroupOf(t, dir)
	if live := liveInGroup(t, pgid); len(live) > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		t.Errorf("processes of the command's group alive after its failure was answered: %v", live)
	}
	// Dead processes write nothing; wait until the grandchild's write
	// would have happened to show it.
	time.Sleep(time.Until(due) + 300*time.Millisecond)
	if data, err := os.ReadFile(filepath.Join(dir, "late.log")); err == nil {
		t.Errorf("the command's grandchild wrote after the failure was answered: %q", data)
	}
}
