package strategies

import (
	"fmt"
	"strings"
	"time"
)

// RollingConfig configures the rolling strategy.
type RollingConfig struct {
	// BatchSize is the number of targets deployed together.
	BatchSize int
	// BatchCount, when > 0, replaces BatchSize: the pending targets are cut
	// into that many batches, whose sizes differ by one at most.
	BatchCount int
	// BatchDelay is waited between two batches (not after the last).
	BatchDelay time.Duration
	// MaxFailures is how many failed targets the rollout tolerates; one more
	// and no further batch starts.
	MaxFailures int
}

// BlueGreenConfig configures the blue/green strategy. The router is an Env
// concern (Env.Switch), so there is nothing to set yet.
type BlueGreenConfig struct {
	// PauseBeforeSwitch is a manual gate: the idle slot is deployed and
	// healthy, and the switch waits for an approval of the version.
	PauseBeforeSwitch bool
}

// CanaryConfig configures the canary strategy.
type CanaryConfig struct {
	// Stages are the cumulative percentages of the fleet at the new version
	// after each stage: strictly ascending, each in (0, 100], last = 100.
	Stages []float64
	// StageInterval is waited after each stage but the last.
	StageInterval time.Duration
	// SuccessThreshold is the lowest healthy/attempted ratio a stage may
	// have, in [0, 1].
	SuccessThreshold float64
	// Gates pause the rollout after their stage until they open.
	Gates []Gate
}

// FeatureFlagConfig configures the feature-flag strategy.
type FeatureFlagConfig struct {
	// FlagName names the flag in events and errors; publishing goes through
	// Env.Publish, which already knows the flag.
	FlagName string
	// InitialRollout is the percentage published once every target is
	// healthy, in [0, 100].
	InitialRollout float64
}

// Config holds the settings of every strategy; New reads the part that
// belongs to the strategy it builds.
type Config struct {
	Rolling     RollingConfig
	BlueGreen   BlueGreenConfig
	Canary      CanaryConfig
	FeatureFlag FeatureFlagConfig
	// Approve opens manual gates for one version (nil: no approval).
	Approve *Approval
}

// ConfigError reports an invalid setting, named as in the configuration
// ("canary.stages", "rolling.batch_size"). Plan-time validation rejects
// these first; New checks again so that the engine never runs on them.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

// Names returns the strategy names New accepts.
func Names() []string {
	return []string{NameRolling, NameBlueGreen, NameCanary, NameFeatureFlag}
}

// Defaults of every setting. They are defined here once: the provider's
// schema shows and applies these.
const (
	DefaultBatchSize        = 1
	DefaultBatchDelay       = 5 * time.Second
	DefaultStageInterval    = 60 * time.Second
	DefaultSuccessThreshold = 0.95
	DefaultHealthInterval   = time.Second
	DefaultHealthTimeout    = 30 * time.Second
)

// DefaultStages are the canary's stages when none are set; a fresh slice on
// every call.
func DefaultStages() []float64 { return []float64{10, 25, 50, 100} }

// DefaultConfig returns the defaults of every strategy.
func DefaultConfig() Config {
	return Config{
		Rolling: RollingConfig{BatchSize: DefaultBatchSize, BatchDelay: DefaultBatchDelay},
		Canary: CanaryConfig{
			Stages:           DefaultStages(),
			StageInterval:    DefaultStageInterval,
			SuccessThreshold: DefaultSuccessThreshold,
		},
	}
}

// New returns the strategy called name, configured from the matching part of
// cfg. It fails on an unknown name or an invalid
// setting, naming the field.
func New(name string, cfg Config) (Strategy, error) {
	switch name {
	case NameRolling:
		if err := cfg.Rolling.validate(); err != nil {
			return nil, err
		}
		return &RollingStrategy{cfg: cfg.Rolling}, nil
	case NameBlueGreen:
		return &BlueGreenStrategy{cfg: cfg.BlueGreen}, nil
	case NameCanary:
		if err := cfg.Canary.validate(); err != nil {
			return nil, err
		}
		c := cfg.Canary
		// Copy so a caller reusing its slice cannot change a running canary.
		c.Stages = append([]float64(nil), c.Stages...)
		c.Gates = append([]Gate(nil), c.Gates...)
		return &CanaryStrategy{cfg: c}, nil
	case NameFeatureFlag:
		if err := cfg.FeatureFlag.validate(); err != nil {
			return nil, err
		}
		return &FeatureFlagStrategy{cfg: cfg.FeatureFlag}, nil
	default:
		return nil, fmt.Errorf("unknown strategy %q: allowed names are %s", name, strings.Join(Names(), ", "))
	}
}

func (c RollingConfig) validate() error {
	switch {
	case c.BatchCount < 0:
		return &ConfigError{"rolling.batch_count", fmt.Sprintf("must be at least 1, got %d", c.BatchCount)}
	case c.BatchCount == 0 && c.BatchSize < 1:
		return &ConfigError{"rolling.batch_size", fmt.Sprintf("must be at least 1, got %d", c.BatchSize)}
	case c.BatchDelay < 0:
		return &ConfigError{"rolling.batch_delay", fmt.Sprintf("must not be negative, got %s", c.BatchDelay)}
	case c.MaxFailures < 0:
		return &ConfigError{"rolling.max_failures", fmt.Sprintf("must not be negative, got %d", c.MaxFailures)}
	}
	return nil
}

func (c CanaryConfig) validate() error {
	if len(c.Stages) == 0 {
		return &ConfigError{"canary.stages", "must not be empty"}
	}
	for i, s := range c.Stages {
		// Written so that NaN fails too.
		if !(s > 0 && s <= 100) {
			return &ConfigError{"canary.stages", fmt.Sprintf("stages[%d] = %s is outside (0, 100]", i, formatPercent(s))}
		}
		if i > 0 && s <= c.Stages[i-1] {
			return &ConfigError{"canary.stages", fmt.Sprintf("must be strictly ascending: stages[%d] = %s follows %s",
				i, formatPercent(s), formatPercent(c.Stages[i-1]))}
		}
	}
	if last := c.Stages[len(c.Stages)-1]; last != 100 {
		return &ConfigError{"canary.stages", fmt.Sprintf("must end at 100, got %s", formatPercent(last))}
	}
	if !(c.SuccessThreshold >= 0 && c.SuccessThreshold <= 1) {
		return &ConfigError{"canary.success_threshold", fmt.Sprintf("must be within [0, 1], got %g", c.SuccessThreshold)}
	}
	if c.StageInterval < 0 {
		return &ConfigError{"canary.stage_interval", fmt.Sprintf("must not be negative, got %s", c.StageInterval)}
	}
	return c.validateGates()
}

func (c FeatureFlagConfig) validate() error {
	if !(c.InitialRollout >= 0 && c.InitialRollout <= 100) {
		return &ConfigError{"feature_flag.initial_rollout", fmt.Sprintf("must be within [0, 100], got %s", formatPercent(c.InitialRollout))}
	}
	return nil
}
