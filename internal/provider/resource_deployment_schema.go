package provider

import (
	"context"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/notify"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

const (
	onDestroyRollback = "rollback"
	onDestroyNone     = "none"
)

// The engine's defaults as the schema writes them (whole seconds: "60s").
var (
	defaultBatchDelay       = seconds(strategies.DefaultBatchDelay)
	defaultStageInterval    = seconds(strategies.DefaultStageInterval)
	defaultSuccessThreshold = strategies.DefaultSuccessThreshold
	defaultHealthInterval   = seconds(strategies.DefaultHealthInterval)
	defaultHealthTimeout    = seconds(strategies.DefaultHealthTimeout)
	defaultCanaryStages     = strategies.DefaultStages()
)

// seconds writes a whole number of seconds as a Go duration: "5s", "60s".
func seconds(d time.Duration) string { return strconv.Itoa(int(d/time.Second)) + "s" }

var healthCheckAttrTypes = map[string]attr.Type{
	"enabled":        types.BoolType,
	"path":           types.StringType,
	"interval":       types.StringType,
	"timeout":        types.StringType,
	"expect_version": types.BoolType,
	"min_healthy":    types.StringType,
}

func defaultHealthCheckObject() types.Object {
	return types.ObjectValueMust(healthCheckAttrTypes, map[string]attr.Value{
		"enabled":        types.BoolValue(true),
		"path":           types.StringValue(protocol.DefaultHealthPath),
		"interval":       types.StringValue(defaultHealthInterval),
		"timeout":        types.StringValue(defaultHealthTimeout),
		"expect_version": types.BoolValue(true),
		"min_healthy":    types.StringValue(zeroSeconds),
	})
}

func float64List(values []float64) types.List {
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.Float64Value(v)
	}
	return types.ListValueMust(types.Float64Type, elems)
}

func (r *deploymentResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		// The shape of the state; a release that changes it adds an
		// UpgradeState from every earlier version (RELEASING.md, "Upgrades").
		Version: 0,
		MarkdownDescription: "Rolls one application version across a fleet of HTTP targets with a rolling, blue/green, canary " +
			"or feature-flag strategy. Every target is health-checked after its deploy; a failed rollout fails the apply " +
			"and, with `auto_rollback`, restores `previous_version` on every target it touched. Destroy rolls back too " +
			"(see `on_destroy`).\n\n" +
			"State never claims what the fleet does not run: after any apply, failed or not, `target_versions` holds what " +
			"the targets report, and refresh turns a target that runs another version into a plan that deploys again.\n\n" +
			"Import is not supported: a deployment's identity is its list of targets and strategy, which only the " +
			"configuration holds; write the resource and apply it instead, and targets already running `version` are " +
			"left untouched (nothing is redeployed).",
		Attributes: map[string]schema.Attribute{
			"id":   idAttribute("Same as `name`."),
			"name": requiredName("Deployment name, sent to every target. 1–128 characters from `A-Z a-z 0-9 . _ -`. Changing it replaces the resource.", stringplanmodifier.RequiresReplace()),
			"version": schema.StringAttribute{
				MarkdownDescription: "The version to roll out: any non-empty string, passed to the targets as is. `codomyrmex-agent serve` refuses, by default, versions with control characters, a `..` path segment, a leading `-` or `/`, or over 256 bytes (see the guide [Running the agent on a host](../guides/running-the-agent)).",
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"targets":       targetsSchema(),
			"rolling":       rollingSchema(),
			"blue_green":    blueGreenSchema(),
			"canary":        canarySchema(),
			"feature_flag":  featureFlagSchema(),
			"health_check":  healthCheckSchema(),
			"auto_rollback": defaultBool("On failure, restore `previous_version` on every target touched by the apply. Defaults to `true`.", true),
			"on_destroy":    defaultString("`\"rollback\"` (default) deploys `previous_version` back on destroy (blue/green: switches back); `\"none\"` only forgets the resource.", onDestroyRollback, stringvalidator.OneOf(onDestroyRollback, onDestroyNone)),
			"timeouts":      timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
			"notifications": notificationsSchema("rollout", "name", notify.DeploymentType, strategies.NoticeKinds),
		},
	}
	for name, a := range outcomeSchema() {
		resp.Schema.Attributes[name] = a
	}
	for name, a := range analysisSchema() {
		resp.Schema.Attributes[name] = a
	}
	for name, a := range approveSchema() {
		resp.Schema.Attributes[name] = a
	}
}

// targetsSchema is the fleet, in rollout order.
func targetsSchema() schema.ListNestedAttribute {
	return schema.ListNestedAttribute{
		MarkdownDescription: "The fleet, 1 to 10000 targets, in rollout order.",
		Required:            true,
		Validators: []validator.List{
			listvalidator.SizeBetween(1, 10000),
			uniqueTargetIDs{},
		},
		NestedObject: schema.NestedAttributeObject{
			Attributes: map[string]schema.Attribute{
				"id": schema.StringAttribute{
					MarkdownDescription: "Unique target id, sent as `target_id`.",
					Required:            true,
					Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
				},
				"address": schema.StringAttribute{
					MarkdownDescription: "Base URL of the target: absolute `http://` or `https://`, optionally with a path prefix (`http://lb:7070/t/web-1`), no query or fragment.",
					Required:            true,
					Validators:          []validator.String{addressValidator{}},
				},
				"name": schema.StringAttribute{
					MarkdownDescription: "Human-readable name.",
					Optional:            true,
				},
				"slot": schema.StringAttribute{
					MarkdownDescription: "Blue/green slot: `blue` or `green`. Required on every target with `blue_green`.",
					Optional:            true,
					Validators:          []validator.String{stringvalidator.OneOf(strategies.SlotBlue, strategies.SlotGreen)},
				},
				"metadata": schema.MapAttribute{
					MarkdownDescription: "Free-form metadata sent with each deploy.",
					Optional:            true,
					ElementType:         types.StringType,
				},
			},
		},
	}
}

// rollingSchema is the rolling strategy's block.
func rollingSchema() schema.SingleNestedAttribute {
	return strategyBlock("Rolling strategy (the default when no strategy is set): batches in list order, the targets of a batch deployed concurrently.", map[string]schema.Attribute{
		"batch_size": schema.Int64Attribute{
			MarkdownDescription: "Targets per batch. Defaults to `1` unless `batch_count` is set.",
			Optional:            true,
			Validators: []validator.Int64{
				int64validator.AtLeast(1),
				int64validator.ConflictsWith(path.MatchRelative().AtParent().AtName("batch_count")),
			},
		},
		"batch_count": schema.Int64Attribute{
			MarkdownDescription: "Split the targets to deploy into this many equal batches, instead of `batch_size`.",
			Optional:            true,
			Validators:          []validator.Int64{int64validator.AtLeast(1)},
		},
		"batch_delay":  durationAttribute("Wait between batches, a Go duration. Defaults to `\""+defaultBatchDelay+"\"`.", defaultBatchDelay, true),
		"max_failures": defaultInt64("Failed targets tolerated; when failures exceed it no further batch starts and the rollout fails. Defaults to `0`.", 0, int64validator.AtLeast(0)),
	})
}

// blueGreenSchema is the blue/green strategy's block.
func blueGreenSchema() schema.SingleNestedAttribute {
	return strategyBlock("Blue/green strategy: every target has a `slot` and both slots are used. The new version goes to the idle slot; only when all of it is healthy is the router switched and `active_slot` flipped.", map[string]schema.Attribute{
		"router_url":          optionalAddress("Base URL of a router implementing `PUT /v1/switch`. Without it, drive your own load balancer from `active_slot`."),
		"pause_before_switch": pauseBeforeSwitchSchema(),
	})
}

// canarySchema is the canary strategy's block, its gates among them.
func canarySchema() schema.SingleNestedAttribute {
	return strategyBlock("Canary strategy: stage *k* brings the updated targets up to ceil(N × stages[k] / 100), at least one, then waits `stage_interval`.", map[string]schema.Attribute{
		"stages": schema.ListAttribute{
			MarkdownDescription: "Percentages of the fleet, ascending, each in (0, 100], the last one 100. Defaults to `[10, 25, 50, 100]`.",
			Optional:            true,
			Computed:            true,
			ElementType:         types.Float64Type,
			Default:             listdefault.StaticValue(float64List(defaultCanaryStages)),
			Validators:          []validator.List{listvalidator.SizeBetween(1, 100), stagesValidator{lastMust100: true}},
		},
		"stage_interval":    durationAttribute("Wait after each stage but the last, a Go duration. Defaults to `\""+defaultStageInterval+"\"`.", defaultStageInterval, true),
		"success_threshold": defaultFloat64("Least share of a stage's targets that must be healthy, in [0, 1]. Defaults to `0.95`.", defaultSuccessThreshold, float64validator.Between(0, 1)),
		"router_url":        optionalAddress("Base URL of a router implementing `PUT /v1/weights`; weights follow the stage percentage."),
		"gates":             gatesSchema(),
	})
}

// featureFlagSchema is the feature-flag strategy's block.
func featureFlagSchema() schema.SingleNestedAttribute {
	return strategyBlock("Feature-flag strategy: every target gets the version at once, then the flag is published at `initial_rollout` percent. Needs the provider's `flag_endpoint`.", map[string]schema.Attribute{
		"flag_name":       requiredName("Flag to publish, 1–128 characters from `A-Z a-z 0-9 . _ -`."),
		"initial_rollout": defaultFloat64("Percentage published once every target is healthy, in [0, 100]. Defaults to `0`.", 0, float64validator.Between(0, 100)),
	})
}

// healthCheckSchema is how a target is polled after its deploy.
func healthCheckSchema() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "After a target's deploy succeeds, poll `GET {address}{path}` every `interval` until it is healthy or `timeout` passes.",
		Optional:            true,
		Computed:            true,
		Default:             objectdefault.StaticValue(defaultHealthCheckObject()),
		Attributes: map[string]schema.Attribute{
			"enabled":        defaultBool("Health-check targets after deploying. Defaults to `true`.", true),
			"path":           defaultString("Health path appended to the target address. Defaults to `\"/v1/health\"`.", protocol.DefaultHealthPath, stringvalidator.RegexMatches(healthPathRegexp, "must start with '/' and hold no query or fragment")),
			"interval":       durationAttribute("Time between polls, a Go duration. Defaults to `\""+defaultHealthInterval+"\"`.", defaultHealthInterval, false),
			"timeout":        durationAttribute("How long a target may take to become healthy, a Go duration. Defaults to `\""+defaultHealthTimeout+"\"`.", defaultHealthTimeout, false),
			"expect_version": defaultBool("Require the reported `version` to equal the version just deployed. Defaults to `true`.", true),
			"min_healthy":    minHealthySchema(),
		},
	}
}

// outcomeSchema holds the computed attributes that tell what the last
// rollout did and what the next apply changes.
func outcomeSchema() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"strategy":           computedString("The strategy that ran: `rolling`, `blue_green`, `canary` or `feature_flag`."),
		"status":             computedString("Outcome of the last rollout: `completed`, `failed`, `rolled_back`, or `paused` at a gate (see `canary.gates`, `blue_green.pause_before_switch`)."),
		"previous_version":   computedString("The version rolled back to on failure and destroy. On create, the version every reachable target agreed on; null when they did not agree. On update, the prior `version`. Null after `version` was set back to `previous_version` while paused or failed (or a resume's measurement rolled the version back): the version before it is not known, so destroy does not roll back."),
		"active_slot":        computedString("Blue/green only: the slot serving traffic (`blue` or `green`). Drive your own load balancer from it."),
		"traffic_percentage": computedFloat64("Share of traffic on `version`: the last canary stage reached, the flag's `initial_rollout`, or 100."),
		"targets_updated":    computedInt64("Targets brought to `version` by the last rollout."),
		"targets_failed":     computedInt64("Targets that failed in the last rollout."),
		"duration_ms":        computedInt64("Duration of the last rollout in milliseconds."),
		"deployed_at":        computedString("When the last rollout finished (RFC 3339)."),
		"target_versions": schema.MapAttribute{
			MarkdownDescription: "Target id → the version the target reported. Unreachable targets keep their last known version.",
			Computed:            true,
			ElementType:         types.StringType,
		},
		"changed_targets": schema.ListAttribute{
			MarkdownDescription: "Ids of the targets this apply brings to `version`, in rollout order; known at plan time " +
				"(unknown only when something that decides it is). All targets on create (blue/green: the idle slot), then the targets " +
				"whose `target_versions` entry differs from `version` or whose `address` changed. Terraform's diff hides list elements " +
				"equal to the prior ones, so the plan also says it in a `Rollout planned` warning; in `terraform show -json` of a plan " +
				"it is `resource_changes[].change.after.changed_targets`.",
			Computed:    true,
			ElementType: types.StringType,
		},
	}
}

func (r *deploymentResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.Conflicting(
			path.MatchRoot("rolling"),
			path.MatchRoot("blue_green"),
			path.MatchRoot("canary"),
			path.MatchRoot("feature_flag"),
		),
	}
}
