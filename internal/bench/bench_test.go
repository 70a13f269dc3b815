package bench

import (
	"strings"
	"testing"
)

func TestCommandLineHidesTheBuildDirectory(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args []string
		want string
	}{
		"go run":     {args: []string{"/tmp/go-build123/b001/exe/codomyrmex-bench", "-targets", "1000"}, want: "codomyrmex-bench -targets 1000"},
		"no args":    {want: "codomyrmex-bench"},
		"plain name": {args: []string{"codomyrmex-bench"}, want: "codomyrmex-bench"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := commandLine(tc.args); got != tc.want {
				t.Errorf("commandLine(%q) = %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := DefaultConfig()
	ok.CLI = "/bin/sh" // any file that exists
	tests := map[string]struct {
		mod     func(*Config)
		wantErr string
	}{
		"the default, with a CLI": {mod: func(*Config) {}},
		"no CLI":                  {mod: func(c *Config) { c.CLI = "" }, wantErr: "no CLI"},
		"missing CLI":             {mod: func(c *Config) { c.CLI = "/nonexistent/tofu" }, wantErr: "install-clis.sh"},
		"fleet too large":         {mod: func(c *Config) { c.Fleets = []int{20000} }, wantErr: "outside 1–10000"},
		"no fleet":                {mod: func(c *Config) { c.Fleets = nil }, wantErr: "no fleet size"},
		"zero concurrency":        {mod: func(c *Config) { c.MaxConcurrency = 0 }, wantErr: "max_concurrency"},
		"no health interval":      {mod: func(c *Config) { c.HealthInterval = 0 }, wantErr: "health interval"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			tc.mod(&cfg)
			err := cfg.validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("validate() = %v, want an error mentioning %q", err, tc.wantErr)
			}
		})
	}
}
