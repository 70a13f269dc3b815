// Package strategies is the deployment engine: rolling, blue/green, canary
// and feature-flag rollouts and their rollbacks, and the rules about what
// the fleet runs and what state may claim about it: what a plan deploys
// (plan.go), which version and traffic an apply saves (saved.go), what
// target_versions say (versions.go), what refresh records (refresh.go),
// what destroy does (destroy.go); each strategy's part of these is a
// fleetRules (rules.go).
// It knows nothing about HTTP or the plugin framework; a strategy is given
// targets, a version, and functions that deploy to a target, check its
// health, move traffic and publish a flag.
package strategies

import (
	"context"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
)

// Strategy names, as written in configuration and saved in state.
const (
	NameRolling     = "rolling"
	NameBlueGreen   = "blue_green"
	NameCanary      = "canary"
	NameFeatureFlag = "feature_flag"
)

// Slots of a blue/green fleet.
const (
	SlotBlue  = "blue"
	SlotGreen = "green"
)

// Status of a finished rollout.
type Status string

const (
	StatusCompleted  Status = "completed"
	StatusFailed     Status = "failed"
	StatusRolledBack Status = "rolled_back"
	// StatusPaused: the rollout stopped at a closed gate (docs/resources/deployment.md, "Analysis, bake and gates"); a
	// later apply continues it.
	StatusPaused Status = "paused"
)

// Target is one deploy target.
type Target struct {
	ID       string
	Address  string
	Name     string
	Slot     string
	Metadata map[string]string
}

// DeployFunc deploys version to one target.
// previousVersion is "" when unknown.
type DeployFunc func(ctx context.Context, t Target, version, previousVersion string) error

// HealthChecker makes one health call to a target and returns the version
// it reports. A nil error means the target answered healthy.
type HealthChecker func(ctx context.Context, t Target) (version string, err error)

// SwitchFunc points the router at a blue/green slot running version.
type SwitchFunc func(ctx context.Context, slot, version string) error

// WeightsFunc sends percentage of traffic to version (canary).
type WeightsFunc func(ctx context.Context, version string, percentage float64) error

// PublishFlagFunc publishes the feature flag at percentage.
type PublishFlagFunc func(ctx context.Context, percentage float64) error

// HealthCheck configures the polling done after each successful deploy.
type HealthCheck struct {
	Enabled       bool
	Interval      time.Duration
	Timeout       time.Duration
	ExpectVersion bool
	// MinHealthy is how long a target must keep answering healthy, from
	// its first healthy poll, before it counts as healthy; a failed poll
	// inside that time makes it unhealthy. Timeout bounds the wait for the
	// first healthy poll only.
	MinHealthy time.Duration
}

// Event levels.
const (
	LevelInfo  = "INFO"
	LevelError = "ERROR"
)

// Event is a progress or failure report for logging. Events are delivered
// from one goroutine at a time, in a deterministic order.
type Event struct {
	Level    string // "INFO" or "ERROR"
	Message  string
	Phase    string // e.g. "batch 2/5", "stage 1 (10%)", "switch", "rollback"
	TargetID string
	Version  string
	Err      error
}

// Env is what a strategy runs with: the side effects, all injected.
type Env struct {
	Deploy DeployFunc
	Health HealthChecker
	// Poll, when set, replaces Health while waiting for a deployed target
	// to become healthy. The wait polls again every interval, so Poll need
	// not retry a failure itself (Health, used for single reads, may).
	Poll    HealthChecker
	Switch  SwitchFunc      // nil: no router (blue/green still flips active_slot)
	Weights WeightsFunc     // nil: no router
	Publish PublishFlagFunc // required by feature_flag
	// Measure takes one analysis measurement; nil when the request has no
	// analysis.
	Measure MeasureFunc
	Clock   clock.Clock
	// Limit is shared by every target call of the apply; it bounds how many
	// targets are being deployed or health-checked at once. A target waiting
	// between two health polls gives its slot up.
	Limit *Limiter
	// OnEvent, when set, receives progress and failure events.
	OnEvent func(Event)
	// Notify, when set, receives the notices of Execute: started, each
	// stage passed, failed measurements, the pause or the end (notice.go).
	Notify NotifyFunc
}

// Request is one rollout.
type Request struct {
	Deployment      string
	Version         string
	PreviousVersion string // "" when unknown: no rollback possible
	Targets         []Target
	// Current maps target id to the version it reported before this apply.
	// Targets already at Version are skipped (an interrupted rollout resumes),
	// and a rollback restores each target to its own entry here.
	Current map[string]string
	// Before maps the targets Current does not know (a create, targets added
	// to the list or given another address) to the version they reported at
	// the start of the apply. They are deployed all the same (the plan could
	// not know it, and a deploy of the running version is a no-op); a
	// rollback restores it.
	Before     map[string]string
	ActiveSlot string // blue/green: the slot serving traffic now ("" on create)
	// TopUp (blue/green): Version already serves traffic from ActiveSlot;
	// the targets of that slot that do not run it (targets added to the
	// list) are deployed and health-checked, and traffic is not switched.
	TopUp bool
	// PriorTraffic is the share of traffic (canary weight, flag percentage)
	// Version had before this apply: 0 for a new version, what state
	// recorded for a repair. The rollout never sets less, and a failure
	// restores it.
	PriorTraffic float64
	AutoRollback bool
	HealthCheck  HealthCheck
	// Bake is waited, measuring the analysis, after the last step: the last
	// canary stage or rolling batch, the blue/green switch, the flag's
	// publish.
	Bake     time.Duration
	Analysis Analysis
	// Gates says which gates may open in this apply.
	Gates Opening
	// Reinstate is the paused release Version was rolled out on top of:
	// a revert to it (Rollback) puts back on each target what it ran then,
	// and a failure or a revert gives it back its traffic share.
	Reinstate *Release
}

// TargetOutcome is what happened to one target.
type TargetOutcome struct {
	ID          string
	Attempted   bool   // a deploy was sent in this apply
	Skipped     bool   // not deployed in this apply: already at the version (or, for blue/green, outside the idle slot)
	Healthy     bool   // deployed (or skipped) and passed the health check
	Version     string // the version the target last reported; its Current version when it reported none
	Err         error  // the deploy or health failure
	RolledBack  bool   // RestoredTo restored
	RestoredTo  string // the version a rollback put (or tried to put) back
	RollbackErr error
	Phase       string // batch / stage / slot it belonged to
}

// Result is the outcome of Execute or Rollback.
type Result struct {
	Strategy          string
	Success           bool
	Status            Status
	TargetsUpdated    int // targets now healthy at the version (attempted in this apply)
	TargetsFailed     int
	Duration          time.Duration
	Outcomes          map[string]*TargetOutcome
	Order             []string // target ids in the order deploys were started
	Errors            []error
	StoppedAt         string // phase where the rollout stopped; "" on success
	ActiveSlot        string // blue/green: slot serving traffic afterwards
	TrafficPercentage float64
	RolledBack        []string // ids of targets rolled back
	RollbackErrors    []error
	// TrafficUnrestored: a rollback could not give traffic back (router
	// weights or the blue/green switch back failed), so where traffic is
	// stands unknown.
	TrafficUnrestored bool
	// Measurements holds the last measurement of each analysis metric, by
	// metric index; the zero value for one never measured.
	Measurements []Measurement
	// PausedAt is the gate's percentage when Status is StatusPaused
	// (blue/green: 0, before its switch); ResumeAt when a time gate opens
	// (zero for a manual gate).
	PausedAt float64
	ResumeAt time.Time
	// PausedSince is when the gate it is paused at was reached.
	PausedSince time.Time
	// Abandoned: the rollback undid the version on targets earlier applies
	// deployed too (a failed measurement on resuming from a gate).
	Abandoned bool
}

// Strategy runs a rollout and its rollback.
type Strategy interface {
	// Execute rolls req.Version out. On failure, with req.AutoRollback and a
	// known PreviousVersion, it rolls back every target it touched.
	Execute(ctx context.Context, req Request, env Env) *Result
	// Rollback restores req.PreviousVersion on the given targets (destroy, or
	// a failed Execute), undoing traffic changes first.
	Rollback(ctx context.Context, req Request, env Env, targets []Target) *Result
}
