package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadUsage(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		content string
		want    Usage
		wantErr string
	}{
		"no provider ran": {},
		"processes add up, the peak is the highest": {
			content: "101 20000 30000 10000\n102 150000 2000000 500000\n\n",
			want:    Usage{Processes: 2, PeakRSS: 150000 * 1024, CPU: 2540 * time.Millisecond},
		},
		"a short line": {content: "101 20000\n", wantErr: "line 1"},
		"not a number": {content: "101 20000 x 1\n", wantErr: "line 1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "usage")
			if tc.content != "" {
				if err := os.WriteFile(file, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReadUsage(file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadUsage() error = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadUsage(): %v", err)
			}
			if got != tc.want {
				t.Errorf("ReadUsage() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// The wrapper passes the child's exit code through and records one usage
// line per child.
func TestRunWrapperRecordsTheChild(t *testing.T) {
	sh, err := os.Stat("/bin/sh")
	if err != nil || sh.IsDir() {
		t.Skip("needs /bin/sh")
	}
	usage := filepath.Join(t.TempDir(), "usage")
	t.Setenv(EnvWrapProvider, "/bin/sh")
	t.Setenv(EnvUsageFile, usage)
	for i, want := range []int{0, 3} {
		if got := RunWrapper([]string{"-c", "exit " + string(rune('0'+want))}); got != want {
			t.Fatalf("run %d: RunWrapper() = %d, want the child's exit code %d", i, got, want)
		}
	}
	u, err := ReadUsage(usage)
	if err != nil {
		t.Fatal(err)
	}
	if u.Processes != 2 || u.PeakRSS <= 0 {
		t.Errorf("usage = %+v, want 2 processes with a peak RSS", u)
	}
}

func TestRunWrapperReportsAMissingProvider(t *testing.T) {
	t.Setenv(EnvWrapProvider, filepath.Join(t.TempDir(), "no-such-provider"))
	t.Setenv(EnvUsageFile, "")
	if got := RunWrapper(nil); got != 1 {
		t.Errorf("RunWrapper() = %d, want 1", got)
	}
}
