// Package scripts holds the tests of the repository's shell scripts that
// can run without the tools they drive.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stubPATH is a directory for PATH holding bash, chmod and the given stub
// commands (shell bodies), and nothing else.
func stubPATH(t *testing.T, stubs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	path := map[string]string{}
	for _, name := range []string{"bash", "chmod"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("no %s on this machine", name)
		}
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		path[name] = p
	}
	bash := path["bash"]
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!"+bash+"\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestNeedDebianPackages: the commands check-release.sh needs are
// installed from their Debian packages when missing and running as root
// (a fresh CI machine has no rpm), and named when not root.
func TestNeedDebianPackages(t *testing.T) {
	t.Parallel()
	script, err := filepath.Abs("need-debian-packages.sh")
	if err != nil {
		t.Fatal(err)
	}
	// apt-get records its arguments and "installs" a package by writing a
	// command of the package's name.
	aptGet := `echo "$*" >> "${0%/*}/apt-get.log"
for a in "$@"; do case "$a" in -*|install) ;; *) printf '#!/bin/sh\n' > "${0%/*}/$a"; chmod +x "${0%/*}/$a" ;; esac; done`
	for _, tc := range []struct {
		name     string
		uid      string
		present  []string
		wantCode int
		wantApt  string
		wantErr  string
	}{
		{name: "all present", uid: "0", present: []string{"jq", "rpm"}, wantCode: 0},
		{name: "rpm missing, root", uid: "0", present: []string{"jq"}, wantCode: 0, wantApt: "install -y -q --no-install-recommends rpm"},
		{name: "both missing, root", uid: "0", wantCode: 0, wantApt: "install -y -q --no-install-recommends jq rpm"},
		{name: "rpm missing, not root", uid: "1000", present: []string{"jq"}, wantCode: 2, wantErr: "run: apt-get install rpm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stubs := map[string]string{"id": "echo " + tc.uid, "apt-get": aptGet}
			for _, c := range tc.present {
				stubs[c] = "exit 0"
			}
			dir := stubPATH(t, stubs)
			cmd := exec.Command("bash", script, "jq:jq", "rpm:rpm")
			cmd.Env = []string{"PATH=" + dir}
			out, err := cmd.CombinedOutput()
			if cmd.ProcessState == nil {
				t.Fatal(err) // it did not start
			}
			if code := cmd.ProcessState.ExitCode(); code != tc.wantCode {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tc.wantCode, out)
			}
			if tc.wantErr != "" && !strings.Contains(string(out), tc.wantErr) {
				t.Errorf("output lacks %q:\n%s", tc.wantErr, out)
			}
			log, _ := os.ReadFile(filepath.Join(dir, "apt-get.log"))
			if got := strings.TrimSpace(string(log)); got != tc.wantApt {
				t.Errorf("apt-get called with %q, want %q", got, tc.wantApt)
			}
		})
	}
}
