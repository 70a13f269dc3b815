package provider

import (
	"os"
	"testing"
)

// The framework's own logs are turned off only when nothing would read
// them; any logging variable, or an explicit framework level, keeps them.
func TestSilenceFrameworkLogsNobodyReads(t *testing.T) {
	vars := []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK_FRAMEWORK", "TF_ACC_LOG_PATH", "TF_LOG_PATH_MASK"}
	tests := map[string]struct {
		set  map[string]string
		want string
	}{
		"no logging variable":              {want: "OFF"},
		"TF_LOG":                           {set: map[string]string{"TF_LOG": "DEBUG"}, want: ""},
		"TF_LOG_PROVIDER":                  {set: map[string]string{"TF_LOG_PROVIDER": "TRACE"}, want: ""},
		"acceptance test log file":         {set: map[string]string{"TF_ACC_LOG_PATH": "/tmp/acc.log"}, want: ""},
		"per-test log files":               {set: map[string]string{"TF_LOG_PATH_MASK": "/tmp/%s.log"}, want: ""},
		"explicit framework level is kept": {set: map[string]string{"TF_LOG_SDK_FRAMEWORK": "DEBUG"}, want: "DEBUG"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, v := range vars {
				t.Setenv(v, tc.set[v]) // restored after the test
			}
			SilenceUnreadFrameworkLogs()
			if got := os.Getenv("TF_LOG_SDK_FRAMEWORK"); got != tc.want {
				t.Errorf("TF_LOG_SDK_FRAMEWORK = %q, want %q", got, tc.want)
			}
		})
	}
}

// HTTP calls are logged only when someone reads provider logs.
func TestHTTPLogOnlyWhenRead(t *testing.T) {
	for name, tc := range map[string]struct {
		set  map[string]string
		want bool
	}{
		"no logging variable":  {want: false},
		"TF_LOG":               {set: map[string]string{"TF_LOG": "DEBUG"}, want: true},
		"TF_LOG_PROVIDER":      {set: map[string]string{"TF_LOG_PROVIDER": "DEBUG"}, want: true},
		"framework level only": {set: map[string]string{"TF_LOG_SDK_FRAMEWORK": "DEBUG"}, want: false},
	} {
		t.Run(name, func(t *testing.T) {
			for _, v := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK_FRAMEWORK", "TF_ACC_LOG_PATH", "TF_LOG_PATH_MASK"} {
				t.Setenv(v, tc.set[v])
			}
			if got := httpLog() != nil; got != tc.want {
				t.Errorf("httpLog() set = %v, want %v", got, tc.want)
			}
		})
	}
}
