package strategies

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		if _, err := New(name, DefaultConfig()); err != nil {
			t.Fatalf("New(%q, DefaultConfig()): %v", name, err)
		}
	}
}

func TestNewUnknown(t *testing.T) {
	t.Parallel()
	_, err := New("big_bang", DefaultConfig())
	if err == nil {
		t.Fatal("New(big_bang) succeeded")
	}
	for _, want := range []string{`"big_bang"`, "rolling, blue_green, canary, feature_flag"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestNewInvalidConfig(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		name      string
		mod       func(*Config)
		wantField string
		wantText  string
	}{
		"batch size 0":          {NameRolling, func(c *Config) { c.Rolling.BatchSize = 0 }, "rolling.batch_size", "at least 1, got 0"},
		"batch count negative":  {NameRolling, func(c *Config) { c.Rolling.BatchCount = -2 }, "rolling.batch_count", "got -2"},
		"batch delay negative":  {NameRolling, func(c *Config) { c.Rolling.BatchDelay = -time.Second }, "rolling.batch_delay", "negative"},
		"max failures negative": {NameRolling, func(c *Config) { c.Rolling.MaxFailures = -1 }, "rolling.max_failures", "negative"},
		"no stages":             {NameCanary, func(c *Config) { c.Canary.Stages = nil }, "canary.stages", "empty"},
		"stage zero":            {NameCanary, func(c *Config) { c.Canary.Stages = []float64{0, 100} }, "canary.stages", "stages[0] = 0 is outside (0, 100]"},
		"stage over 100":        {NameCanary, func(c *Config) { c.Canary.Stages = []float64{50, 150} }, "canary.stages", "stages[1] = 150"},
		"stage NaN":             {NameCanary, func(c *Config) { c.Canary.Stages = []float64{math.NaN(), 100} }, "canary.stages", "outside"},
		"not ascending":         {NameCanary, func(c *Config) { c.Canary.Stages = []float64{50, 25, 100} }, "canary.stages", "strictly ascending"},
		"repeated stage":        {NameCanary, func(c *Config) { c.Canary.Stages = []float64{50, 50, 100} }, "canary.stages", "strictly ascending"},
		"not ending at 100":     {NameCanary, func(c *Config) { c.Canary.Stages = []float64{10, 50} }, "canary.stages", "end at 100, got 50"},
		"threshold above 1":     {NameCanary, func(c *Config) { c.Canary.SuccessThreshold = 1.5 }, "canary.success_threshold", "[0, 1]"},
		"threshold negative":    {NameCanary, func(c *Config) { c.Canary.SuccessThreshold = -0.1 }, "canary.success_threshold", "[0, 1]"},
		"threshold NaN":         {NameCanary, func(c *Config) { c.Canary.SuccessThreshold = math.NaN() }, "canary.success_threshold", "[0, 1]"},
		"interval negative":     {NameCanary, func(c *Config) { c.Canary.StageInterval = -time.Second }, "canary.stage_interval", "negative"},
		"initial rollout high":  {NameFeatureFlag, func(c *Config) { c.FeatureFlag.InitialRollout = 101 }, "feature_flag.initial_rollout", "[0, 100]"},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			tc.mod(&cfg)
			_, err := New(tc.name, cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("New(%q) error = %v, want a *ConfigError", tc.name, err)
			}
			if ce.Field != tc.wantField {
				t.Errorf("field = %q, want %q", ce.Field, tc.wantField)
			}
			if !strings.Contains(err.Error(), tc.wantField) || !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q should name %q and say %q", err, tc.wantField, tc.wantText)
			}
		})
	}
}

func TestNewValidEdgeConfig(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		name string
		mod  func(*Config)
	}{
		"batch count replaces batch size": {NameRolling, func(c *Config) { c.Rolling.BatchSize = 0; c.Rolling.BatchCount = 3 }},
		"single stage":                    {NameCanary, func(c *Config) { c.Canary.Stages = []float64{100} }},
		"threshold bounds":                {NameCanary, func(c *Config) { c.Canary.SuccessThreshold = 0 }},
		"fractional stages":               {NameCanary, func(c *Config) { c.Canary.Stages = []float64{0.5, 12.5, 100} }},
		"full initial rollout":            {NameFeatureFlag, func(c *Config) { c.FeatureFlag.InitialRollout = 100 }},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			tc.mod(&cfg)
			if _, err := New(tc.name, cfg); err != nil {
				t.Fatalf("New(%q): %v", tc.name, err)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	if c.Rolling != (RollingConfig{BatchSize: 1, BatchDelay: 5 * time.Second}) {
		t.Errorf("rolling defaults = %+v", c.Rolling)
	}
	if !slices.Equal(c.Canary.Stages, []float64{10, 25, 50, 100}) || c.Canary.StageInterval != time.Minute || c.Canary.SuccessThreshold != 0.95 {
		t.Errorf("canary defaults = %+v", c.Canary)
	}
	if c.FeatureFlag.InitialRollout != 0 {
		t.Errorf("feature flag defaults = %+v", c.FeatureFlag)
	}
}

func TestNewCopiesStages(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	s, err := New(NameCanary, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Canary.Stages[0] = 99
	canary, ok := s.(*CanaryStrategy)
	if !ok {
		t.Fatalf("New(canary) returned %T", s)
	}
	if got := canary.cfg.Stages[0]; got != 10 {
		t.Errorf("changing the caller's slice changed the canary: stage 1 = %v", got)
	}
}
