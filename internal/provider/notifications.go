package provider

// notifications on codomyrmex_deployment and codomyrmex_feature_rollout
// (docs/guides/watching-a-rollout.md): the schema, and a sender for one
// apply whose failed deliveries become warnings.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/notify"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

// Events of a codomyrmex_feature_rollout.
const (
	rolloutAdvanced = "advanced"
	rolloutPaused   = "paused"
	rolloutComplete = "completed"
	rolloutAborted  = "aborted"
)

var rolloutEvents = []string{rolloutAdvanced, rolloutPaused, rolloutComplete, rolloutAborted}

// notificationsNull is a notifications attribute that is not set: what a
// value the provider builds itself (an import) holds.
var notificationsNull = types.ListNull(types.ObjectType{AttrTypes: map[string]attr.Type{
	"url":     types.StringType,
	"events":  types.ListType{ElemType: types.StringType},
	"format":  types.StringType,
	"headers": types.MapType{ElemType: types.StringType},
}})

type notificationModel struct {
	URL     types.String `tfsdk:"url"`
	Events  types.List   `tfsdk:"events"`
	Format  types.String `tfsdk:"format"`
	Headers types.Map    `tfsdk:"headers"`
}

// notificationsSchema is the notifications attribute of a resource whose
// events are kinds, of type prefix+kind.
func notificationsSchema(what, nameAttr, prefix string, kinds []string) schema.ListNestedAttribute {
	quoted := make([]string, len(kinds))
	for i, k := range kinds {
		quoted[i] = "`" + k + "`"
	}
	return schema.ListNestedAttribute{
		MarkdownDescription: "Where to tell what the " + what + " does while the apply runs: each event is POSTed to every entry whose `events` " +
			"include it, in order, with the provider's `retries` and `request_timeout`. A delivery that fails is a warning: it never fails " +
			"the apply, and the apply never waits more than one `request_timeout` for notifications once the " + what + " ended. " +
			"See the guide [Watching a rollout](../guides/watching-a-rollout).",
		Optional: true,
		NestedObject: schema.NestedAttributeObject{
			Attributes: map[string]schema.Attribute{
				"url": schema.StringAttribute{
					MarkdownDescription: "Where events are POSTed: an absolute `http://` or `https://` URL. Messages name only its origin (scheme, host and port): the path of a chat webhook is often its secret.",
					Required:            true,
					Validators:          []validator.String{webURLValidator{}},
				},
				"events": schema.ListAttribute{
					MarkdownDescription: "The events sent to `url`, of " + strings.Join(quoted, ", ") + ". Defaults to all of them.",
					Optional:            true,
					ElementType:         types.StringType,
					Validators: []validator.List{
						listvalidator.SizeAtLeast(1),
						listvalidator.UniqueValues(),
						listvalidator.ValueStringsAre(stringvalidator.OneOf(kinds...)),
					},
				},
				"format": schema.StringAttribute{
					MarkdownDescription: "`\"cloudevents\"` (default): a CloudEvents 1.0 event in structured mode (`Content-Type: application/cloudevents+json`), " +
						"of type `" + prefix + "<event>`, source `codomyrmex/` followed by `" + nameAttr + "`, a unique `id`, `time`, and `data`. " +
						"`\"slack\"`: `{\"text\": \"...\"}`, one readable line, as Slack, Mattermost and Rocket.Chat incoming webhooks take it.",
					Optional:   true,
					Validators: []validator.String{stringvalidator.OneOf(notify.Formats...)},
				},
				"headers": schema.MapAttribute{
					MarkdownDescription: "HTTP headers sent with every event to `url`'s own origin only, never where it redirects (for example the receiver's authorization). Sensitive. The provider's `token` and `headers` are never sent there.",
					Optional:            true,
					Sensitive:           true,
					ElementType:         types.StringType,
				},
			},
		},
	}
}

// notificationDests reads the notifications attribute; nil when it is null.
func notificationDests(ctx context.Context, list types.List) ([]notify.Destination, diag.Diagnostics) {
	var diags diag.Diagnostics
	if list.IsNull() || list.IsUnknown() {
		return nil, diags
	}
	var models []notificationModel
	if diags.Append(list.ElementsAs(ctx, &models, false)...); diags.HasError() {
		return nil, diags
	}
	dests := make([]notify.Destination, 0, len(models))
	for _, m := range models {
		d := notify.Destination{URL: m.URL.ValueString(), Format: m.Format.ValueString()}
		if d.Format == "" {
			d.Format = notify.FormatCloudEvents
		}
		diags.Append(m.Events.ElementsAs(ctx, &d.Events, false)...)
		diags.Append(m.Headers.ElementsAs(ctx, &d.Headers, false)...)
		dests = append(dests, d)
	}
	return dests, diags
}

// notificationSecrets are the header values of list: masked in logs.
func notificationSecrets(list types.List) []string {
	var out []string
	if list.IsNull() || list.IsUnknown() {
		return nil
	}
	for _, e := range list.Elements() {
		obj, ok := e.(types.Object)
		if !ok {
			continue
		}
		headers, ok := obj.Attributes()["headers"].(types.Map)
		if !ok {
			continue
		}
		for _, v := range headers.Elements() {
			if s, ok := v.(types.String); ok && s.ValueString() != "" {
				out = append(out, s.ValueString())
			}
		}
	}
	return out
}

// newSender starts the sender of one apply of the resource named name;
// nil without notifications.
func (d *providerData) newSender(ctx context.Context, prefix, name string, list types.List, now func() time.Time) (*notify.Sender, diag.Diagnostics) {
	dests, diags := notificationDests(ctx, list)
	if len(dests) == 0 || diags.HasError() {
		return nil, diags
	}
	return notify.New(ctx, notify.Config{
		TypePrefix: prefix, Name: name, Transport: d.metrics.RoundTripper(), Timeout: d.timeout,
		Now: now,
	}, dests), diags
}

// closeSender waits for the notifications of the apply and turns what
// failed into warnings.
func closeSender(s *notify.Sender, diags *diag.Diagnostics) {
	for _, w := range s.Close() {
		diags.AddWarning("Notification not delivered", w+"\nThe rollout itself is not affected.")
	}
}

// noticeSink sends the engine's notices through s.
func noticeSink(s *notify.Sender) strategies.NotifyFunc {
	if s == nil {
		return nil
	}
	return func(n strategies.Notice) {
		s.Notify(n.Kind, notify.Data{
			Deployment: n.Deployment, Version: n.Version, PreviousVersion: n.PreviousVersion, Strategy: n.Strategy,
			Stage: n.Stage, Percentage: n.Percentage, Targets: n.Targets, Reason: n.Reason,
		})
	}
}

// rolloutNotices sends what an apply of a feature rollout did, going from
// before (nil on create) to after: advanced when it reached a later stage,
// then paused, completed or aborted when it came to that state.
func rolloutNotices(s *notify.Sender, before, after *featureRolloutModel) {
	if s == nil {
		return
	}
	state, stage, pct := rollout.State(after.State.ValueString()), after.CurrentStage.ValueInt64(), after.Percentage.ValueFloat64()
	data := notify.Data{
		Flag:       after.FlagName.ValueString(),
		Stage:      fmt.Sprintf("stage %d (%s%%)", stage, strconv.FormatFloat(pct, 'f', -1, 64)),
		Percentage: pct,
	}
	was := func(st rollout.State) bool { return before != nil && before.State.ValueString() == string(st) }
	stageBefore := int64(-1)
	if before != nil && !was(rollout.StatePending) {
		stageBefore = before.CurrentStage.ValueInt64()
	}
	if state != rollout.StatePending && state != rollout.StateAborted && stage > stageBefore {
		d := data
		if stages, ok := stagesOf(after.Stages); ok {
			d.Reason = fmt.Sprintf("stage %d of %d", stage, len(stages)-1)
		}
		s.Notify(rolloutAdvanced, d)
	}
	switch {
	case state == rollout.StatePaused && !was(state):
		s.Notify(rolloutPaused, data)
	case state == rollout.StateCompleted && !was(state):
		s.Notify(rolloutComplete, data)
	case state == rollout.StateAborted && !was(state):
		s.Notify(rolloutAborted, data)
	}
}
