package protocol

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

// flagNamePattern is the shape of a flag name, the same rule the provider
// applies to flag_name: 1 to 128 characters from A-Z a-z 0-9 . _ -.
var flagNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// ValidFlagName reports whether name is a valid flag name:
// [A-Za-z0-9._-]{1,128}.
func ValidFlagName(name string) bool { return flagNamePattern.MatchString(name) }

// ValidateFlag checks a flag document a flag service is asked to store: a
// valid name, a known state, a percentage in [0, 100], a stage that is not
// negative, stages each in [0, 100] (at most rollout.MaxStages of them), and
// updated_at empty or RFC 3339. The error says what is wrong and what was
// given. It does not check that percentage is stages[stage]: a document set
// by hand may differ, and the provider treats that as drift.
func ValidateFlag(f Flag) error {
	if !ValidFlagName(f.Flag) {
		return fmt.Errorf("flag name must be 1 to 128 characters from A-Z, a-z, 0-9, '.', '_' and '-', got %q", f.Flag)
	}
	if !slices.Contains(rollout.States(), rollout.State(f.State)) {
		return fmt.Errorf("state must be one of %v, got %q", rollout.States(), f.State)
	}
	if !(f.Percentage >= 0 && f.Percentage <= 100) {
		return fmt.Errorf("percentage must be in [0, 100], got %v", f.Percentage)
	}
	if f.Stage < 0 {
		return fmt.Errorf("stage must not be negative, got %d", f.Stage)
	}
	if len(f.Stages) > rollout.MaxStages {
		return fmt.Errorf("stages: at most %d are allowed, got %d", rollout.MaxStages, len(f.Stages))
	}
	for i, v := range f.Stages {
		if !(v >= 0 && v <= 100) {
			return fmt.Errorf("stages[%d] must be in [0, 100], got %v", i, v)
		}
	}
	if f.UpdatedAt != "" {
		if _, err := time.Parse(time.RFC3339, f.UpdatedAt); err != nil {
			return fmt.Errorf("updated_at must be an RFC 3339 time, got %q", f.UpdatedAt)
		}
	}
	return nil
}
