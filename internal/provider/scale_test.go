package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The largest fleet a deployment accepts (targets: 1–10000).
const maxTargets = 10000

// protoServer is the provider as Terraform sees it, with the deployment's
// schema type.
type protoServer struct {
	srv        tfprotov6.ProviderServer
	deployment tftypes.Object
}

func newProtoServer(tb testing.TB) *protoServer {
	tb.Helper()
	ctx := context.Background()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		tb.Fatal(err)
	}
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || diagError(schemas.Diagnostics) != "" {
		tb.Fatalf("GetProviderSchema: %v %s", err, diagError(schemas.Diagnostics))
	}
	providerType := schemas.Provider.ValueType()
	cfg := mustDynamic(tb, providerType, objectValue(providerType.(tftypes.Object), nil)) //nolint:forcetypeassert // a provider schema is an object
	conf, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &cfg})
	if err != nil || diagError(conf.Diagnostics) != "" {
		tb.Fatalf("ConfigureProvider: %v %s", err, diagError(conf.Diagnostics))
	}
	return &protoServer{srv: srv, deployment: schemas.ResourceSchemas["codomyrmex_deployment"].ValueType().(tftypes.Object)} //nolint:forcetypeassert // a resource schema is an object
}

// objectValue builds an object of type typ from attrs, null elsewhere.
func objectValue(typ tftypes.Object, attrs map[string]tftypes.Value) tftypes.Value {
	all := make(map[string]tftypes.Value, len(typ.AttributeTypes))
	for name, at := range typ.AttributeTypes {
		if v, ok := attrs[name]; ok {
			all[name] = v
		} else {
			all[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(typ, all)
}

func mustDynamic(tb testing.TB, typ tftypes.Type, v tftypes.Value) tfprotov6.DynamicValue {
	tb.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		tb.Fatal(err)
	}
	return dv
}

func diagError(diags []*tfprotov6.Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			fmt.Fprintf(&b, "%s: %s; ", d.Summary, d.Detail)
		}
	}
	return b.String()
}

// fleetConfig is a deployment of n targets behind one load balancer; the
// last target's id is lastID.
func (p *protoServer) fleetConfig(n int, lastID string) tftypes.Value {
	targetsType := p.deployment.AttributeTypes["targets"].(tftypes.List) //nolint:forcetypeassert // fixed by the schema
	targetType := targetsType.ElementType.(tftypes.Object)               //nolint:forcetypeassert // fixed by the schema
	targets := make([]tftypes.Value, n)
	for i := range targets {
		id := fmt.Sprintf("web-%05d", i+1)
		if i == n-1 && lastID != "" {
			id = lastID
		}
		targets[i] = objectValue(targetType, map[string]tftypes.Value{
			"id":      tftypes.NewValue(tftypes.String, id),
			"address": tftypes.NewValue(tftypes.String, fmt.Sprintf("http://lb.internal:7070/t/%s", id)),
		})
	}
	return objectValue(p.deployment, map[string]tftypes.Value{
		"name":    tftypes.NewValue(tftypes.String, "web"),
		"version": tftypes.NewValue(tftypes.String, "2.0.0"),
		"targets": tftypes.NewValue(targetsType, targets),
	})
}

// validate runs ValidateResourceConfig, as `validate` and `plan` do.
func (p *protoServer) validate(tb testing.TB, cfg tftypes.Value) []*tfprotov6.Diagnostic {
	tb.Helper()
	dv := mustDynamic(tb, p.deployment, cfg)
	v, err := p.srv.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: "codomyrmex_deployment", Config: &dv})
	if err != nil {
		tb.Fatal(err)
	}
	return v.Diagnostics
}

// plan runs PlanResourceChange for a new deployment and returns its
// changed_targets.
func (p *protoServer) plan(tb testing.TB, cfg tftypes.Value) []tftypes.Value {
	tb.Helper()
	dv := mustDynamic(tb, p.deployment, cfg)
	prior := mustDynamic(tb, p.deployment, tftypes.NewValue(p.deployment, nil))
	plan, err := p.srv.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: "codomyrmex_deployment", PriorState: &prior, ProposedNewState: &dv, Config: &dv,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if msg := diagError(plan.Diagnostics); msg != "" {
		tb.Fatalf("PlanResourceChange: %s", msg)
	}
	v, err := plan.PlannedState.Unmarshal(p.deployment)
	if err != nil {
		tb.Fatal(err)
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		tb.Fatal(err)
	}
	var changed []tftypes.Value
	if err := attrs["changed_targets"].As(&changed); err != nil {
		tb.Fatal(err)
	}
	return changed
}

// TestDeployment_validatesLargestFleet validates a deployment of 10000
// targets through the provider protocol: it is accepted, a duplicate id at
// the very end is still found, and 10001 targets are refused. The plan
// lists every target in changed_targets. The benchmarks below measure both
// steps at 10000 (`go test -run '^$' -bench LargestFleet ./internal/provider/`).
func TestDeployment_validatesLargestFleet(t *testing.T) {
	t.Parallel()
	p := newProtoServer(t)
	cfg := p.fleetConfig(maxTargets, "")
	if msg := diagError(p.validate(t, cfg)); msg != "" {
		t.Fatalf("10000 targets rejected: %s", msg)
	}
	if msg := diagError(p.validate(t, p.fleetConfig(maxTargets, "web-00001"))); !strings.Contains(msg, "Duplicate target id") || !strings.Contains(msg, "targets[9999]") {
		t.Fatalf("a duplicate id among 10000 targets: %q, want it reported at targets[9999]", msg)
	}
	if msg := diagError(p.validate(t, p.fleetConfig(maxTargets+1, ""))); !strings.Contains(msg, "10000") {
		t.Fatalf("10001 targets: %q, want the 1–10000 limit", msg)
	}
	// The framework's plan of a nested list costs O(n²) in its length
	// (internal/fwserver copies the list once per element): ~10s for 10000
	// targets, a minute under -race. BenchmarkPlanLargestFleet plans 10000;
	// here 1000 show that changed_targets follows the list.
	const planned = 1000
	if changed := p.plan(t, p.fleetConfig(planned, "")); len(changed) != planned {
		t.Fatalf("changed_targets has %d ids, want %d", len(changed), planned)
	}
}

func BenchmarkValidateLargestFleet(b *testing.B) {
	p := newProtoServer(b)
	cfg := p.fleetConfig(maxTargets, "")
	b.ReportAllocs()
	for b.Loop() {
		if msg := diagError(p.validate(b, cfg)); msg != "" {
			b.Fatal(msg)
		}
	}
}

func BenchmarkPlanLargestFleet(b *testing.B) {
	p := newProtoServer(b)
	cfg := p.fleetConfig(maxTargets, "")
	b.ReportAllocs()
	for b.Loop() {
		if n := len(p.plan(b, cfg)); n != maxTargets {
			b.Fatalf("changed_targets has %d ids", n)
		}
	}
}
