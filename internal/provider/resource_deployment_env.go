package provider

// The engine's side effects, on top of the protocol client, with progress
// and failures logged through tflog.

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

// env builds the engine's side effects on top of the protocol client.
func (r *deploymentResource) env(ctx context.Context, s *deploymentSpec) strategies.Env {
	client := r.data.client
	name := s.name
	strategy := s.strategy
	env := strategies.Env{
		Clock: r.clock,
		Limit: r.data.limit,
		Deploy: func(ctx context.Context, t strategies.Target, version, previous string) error {
			var pv *string
			if previous != "" {
				pv = &previous
			}
			return client.Deploy(ctx, t.Address, protocol.DeployRequest{
				Deployment:      name,
				Version:         version,
				PreviousVersion: pv,
				TargetID:        t.ID,
				Strategy:        strategy,
				Metadata:        t.Metadata,
			})
		},
		Health: func(ctx context.Context, t strategies.Target) (string, error) {
			h, err := client.Health(ctx, t.Address, s.healthPath)
			return h.Version, err
		},
		// The engine polls again every health_check.interval: a poll that
		// retried with backoff itself would stretch the interval.
		Poll: func(ctx context.Context, t strategies.Target) (string, error) {
			h, err := client.Health(protocol.WithoutRetries(ctx), t.Address, s.healthPath)
			return h.Version, err
		},
		OnEvent: func(e strategies.Event) {
			fields := map[string]any{"deployment": name, "strategy": strategy}
			if e.Phase != "" {
				fields["phase"] = e.Phase
			}
			if e.TargetID != "" {
				fields["target_id"] = e.TargetID
			}
			if e.Version != "" {
				fields["version"] = e.Version
			}
			if e.Err != nil {
				fields["error"] = e.Err.Error()
			}
			if e.Level == strategies.LevelError {
				tflog.Error(ctx, e.Message, fields)
			} else {
				tflog.Info(ctx, e.Message, fields)
			}
		},
	}
	if s.routerURL != "" {
		router := s.routerURL
		env.Switch = func(ctx context.Context, slot, version string) error {
			return client.Switch(ctx, router, protocol.SwitchRequest{Deployment: name, Slot: slot, Version: version})
		}
		env.Weights = func(ctx context.Context, version string, percentage float64) error {
			return client.SetWeights(ctx, router, protocol.WeightsRequest{Deployment: name, Version: version, Percentage: percentage})
		}
	}
	if s.strategy == strategies.NameFeatureFlag {
		endpoint, flag, clk := r.data.flagEndpoint, s.flagName, r.clock
		env.Publish = func(ctx context.Context, percentage float64) error {
			return client.PublishFlag(ctx, endpoint, protocol.Flag{
				Flag:       flag,
				State:      string(rollout.StateActive),
				Stage:      0,
				Percentage: percentage,
				Stages:     []float64{percentage},
				UpdatedAt:  clk.Now().UTC().Format(time.RFC3339),
			})
		}
	}
	if m, err := r.measurer(s.analysis); err == nil && m != nil {
		env.Measure = m.Measure
	}
	return env
}
