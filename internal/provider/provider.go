// Package provider is the Terraform side of codomyrmex: schema, validation,
// plan modification and the translation between Terraform values and the
// engine (internal/strategies, internal/rollout) and protocol
// (internal/protocol). It holds no rollout logic of its own.
package provider

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

// Environment variables read when the matching attribute is not set.
const (
	EnvToken        = "CODOMYRMEX_TOKEN"
	EnvFlagEndpoint = "CODOMYRMEX_FLAG_ENDPOINT"
)

const (
	defaultRequestTimeout = 10 * time.Second
	defaultRetries        = 2
	defaultMaxConcurrency = 32
)

var (
	_ provider.Provider              = (*codomyrmexProvider)(nil)
	_ provider.ProviderWithFunctions = (*codomyrmexProvider)(nil)
)

// New returns the provider factory for providerserver.Serve.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &codomyrmexProvider{version: version, clock: clock.Real(), getenv: os.Getenv}
	}
}

// SilenceUnreadFrameworkLogs turns the plugin framework's own log
// subsystem off when no one reads provider logs. For every value of a plan
// the framework wraps the request's context once more and writes a TRACE
// line through it, so each line walks a longer context chain than the one
// before: quadratic in the size of the plan. With 5000 targets (some 40 000
// values) that was 35 s of a 45 s plan (see
// hashicorp/terraform-plugin-framework#721). An explicit
// TF_LOG_SDK_FRAMEWORK always wins. It sets the process environment, so the
// provider's main calls it once, before serving.
func SilenceUnreadFrameworkLogs() {
	if os.Getenv("TF_LOG_SDK_FRAMEWORK") != "" || !providerLogsUnread() {
		return
	}
	_ = os.Setenv("TF_LOG_SDK_FRAMEWORK", "OFF")
}

// providerLogsUnread reports whether provider logs go nowhere: the CLI
// drops them unless TF_LOG or TF_LOG_PROVIDER is set, and acceptance tests
// keep them only with TF_LOG, TF_ACC_LOG_PATH or TF_LOG_PATH_MASK. Logs
// that cost per value or per call are not written then, which changes
// nothing anyone can see.
func providerLogsUnread() bool {
	for _, env := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_ACC_LOG_PATH", "TF_LOG_PATH_MASK"} {
		if os.Getenv(env) != "" {
			return false
		}
	}
	return true
}

// newWithClock is New with an injected clock, for tests of time-driven
// behaviour.
func newWithClock(version string, c clock.Clock) func() provider.Provider {
	return func() provider.Provider {
		return &codomyrmexProvider{version: version, clock: c, getenv: os.Getenv}
	}
}

type codomyrmexProvider struct {
	version string
	clock   clock.Clock
	// getenv reads CODOMYRMEX_TOKEN and CODOMYRMEX_FLAG_ENDPOINT: os.Getenv,
	// or a test's own environment when the provider is served from the
	// test process.
	getenv func(string) string
}

type providerModel struct {
	Token              types.String `tfsdk:"token"`
	FlagEndpoint       types.String `tfsdk:"flag_endpoint"`
	Headers            types.Map    `tfsdk:"headers"`
	RequestTimeout     types.String `tfsdk:"request_timeout"`
	Retries            types.Int64  `tfsdk:"retries"`
	MaxConcurrency     types.Int64  `tfsdk:"max_concurrency"`
	CACertPEM          types.String `tfsdk:"ca_cert_pem"`
	ClientCertPEM      types.String `tfsdk:"client_cert_pem"`
	ClientKeyPEM       types.String `tfsdk:"client_key_pem"`
	InsecureSkipVerify types.Bool   `tfsdk:"insecure_skip_verify"`
}

// providerData is handed to every resource by Configure.
type providerData struct {
	token  string
	client *protocol.Client
	// metrics queries Prometheus and web checks: the same retries and
	// timeouts, never the token, headers or client certificate.
	metrics *protocol.Client
	// timeout is request_timeout: the most an apply waits for its
	// notifications once the rollout ended.
	timeout      time.Duration
	flagEndpoint string
	// flagEndpointUnknown: flag_endpoint is unknown until apply.
	flagEndpointUnknown bool
	// unknown names the settings unknown until apply (see Configure).
	unknown []string
	// published records the flags published in this run, for Delete.
	published *publishedFlags
	// limit is shared by every resource of the provider, so that
	// max_concurrency holds across resources applied in parallel.
	limit *strategies.Limiter
}

func (p *codomyrmexProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "codomyrmex"
	resp.Version = p.version
}

func (p *codomyrmexProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Progressive delivery from `terraform apply`: roll a version across a fleet of HTTP targets " +
			"with a rolling, blue/green, canary or feature-flag strategy, and move feature flags through staged percentages.",
		Attributes: map[string]schema.Attribute{
			"token": schema.StringAttribute{
				MarkdownDescription: "Bearer token sent as `Authorization: Bearer <token>` on every call. " +
					"Defaults to the `" + EnvToken + "` environment variable. Never sent on a redirect to another host.",
				Optional:  true,
				Sensitive: true,
			},
			"flag_endpoint": schema.StringAttribute{
				MarkdownDescription: "Base URL of the flag service (`{flag_endpoint}/v1/flags/{name}`). " +
					"Defaults to the `" + EnvFlagEndpoint + "` environment variable.",
				Optional:   true,
				Validators: []validator.String{addressValidator{}},
			},
			"headers": schema.MapAttribute{
				MarkdownDescription: "Extra HTTP headers sent on every call.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: "Timeout of each HTTP call, as a Go duration (`\"10s\"`). Defaults to `\"10s\"`.",
				Optional:            true,
				Validators:          []validator.String{positiveDuration{}},
			},
			"retries": schema.Int64Attribute{
				MarkdownDescription: "How many times a transient failure (connection error, timeout, 429, 502, 503, 504) is retried, " +
					"with exponential backoff and jitter, honouring `Retry-After`. The health checks that wait for a deployed " +
					"target to become healthy are not retried one by one: the wait polls again every `health_check.interval`. " +
					"Defaults to `2`.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, 10)},
			},
			"max_concurrency": schema.Int64Attribute{
				MarkdownDescription: "Most target calls in flight at once, across the whole apply and every resource of this provider " +
					"configuration. A target waiting between two health checks holds no slot. Defaults to `32`.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(1, 10000)},
			},
			"ca_cert_pem": schema.StringAttribute{
				MarkdownDescription: "PEM-encoded CA certificates trusted for `https://` targets instead of the system roots.",
				Optional:            true,
			},
			"client_cert_pem": clientPEM("PEM-encoded client certificate for mutual TLS. Requires `client_key_pem`.", "client_key_pem", false),
			"client_key_pem":  clientPEM("PEM-encoded private key of `client_cert_pem`.", "client_cert_pem", true),
			"insecure_skip_verify": schema.BoolAttribute{
				MarkdownDescription: "Skip TLS certificate verification. For tests only; the provider warns when it is on.",
				Optional:            true,
			},
		},
	}
}

// clientPEM is one half of the client certificate for mutual TLS, which
// requires the other half.
func clientPEM(description, other string, sensitive bool) schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: description, Optional: true, Sensitive: sensitive,
		Validators: []validator.String{stringvalidator.AlsoRequires(path.MatchRoot(other))},
	}
}

func (p *codomyrmexProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// A plan whose provider block depends on values known only at apply
	// configures the provider with those values unknown. Nothing is sent
	// with them: the settings that are known make the client, and the
	// resources leave the services alone until the apply configures the
	// provider again with every value.
	unknown := cfg.unknownSettings()

	token := p.getenv(EnvToken)
	if !cfg.Token.IsNull() && !cfg.Token.IsUnknown() {
		token = cfg.Token.ValueString()
	}

	flagEndpoint, ok := p.flagEndpoint(cfg, &resp.Diagnostics)
	if !ok {
		return
	}

	timeout := defaultRequestTimeout
	if !cfg.RequestTimeout.IsNull() && !cfg.RequestTimeout.IsUnknown() {
		d, err := time.ParseDuration(cfg.RequestTimeout.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("request_timeout"), "Invalid duration", err.Error())
			return
		}
		timeout = d
	}
	retries := defaultRetries
	if !cfg.Retries.IsNull() && !cfg.Retries.IsUnknown() {
		retries = int(cfg.Retries.ValueInt64())
	}
	maxConcurrency := defaultMaxConcurrency
	if !cfg.MaxConcurrency.IsNull() && !cfg.MaxConcurrency.IsUnknown() {
		maxConcurrency = int(cfg.MaxConcurrency.ValueInt64())
	}
	if cfg.InsecureSkipVerify.ValueBool() {
		resp.Diagnostics.AddAttributeWarning(path.Root("insecure_skip_verify"), "TLS verification is off",
			"insecure_skip_verify is true: certificates of https targets, routers and the flag service are not verified. Use ca_cert_pem instead outside tests.")
	}

	client, metrics, err := p.clients(cfg, token, timeout, retries, maxConcurrency)
	if err != nil {
		resp.Diagnostics.AddError("Invalid provider configuration", err.Error())
		return
	}

	data := &providerData{
		token:               token,
		client:              client,
		metrics:             metrics,
		timeout:             timeout,
		flagEndpoint:        flagEndpoint,
		flagEndpointUnknown: cfg.FlagEndpoint.IsUnknown(),
		unknown:             unknown,
		limit:               strategies.NewLimiter(maxConcurrency),
		published:           &publishedFlags{},
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

// flagEndpoint is the provider's flag endpoint: flag_endpoint, else
// CODOMYRMEX_FLAG_ENDPOINT; empty while flag_endpoint is unknown. ok is
// false when the environment variable is not a valid base URL.
func (p *codomyrmexProvider) flagEndpoint(cfg providerModel, diags *diag.Diagnostics) (flagEndpoint string, ok bool) {
	flagEndpoint = p.getenv(EnvFlagEndpoint)
	switch v := cfg.FlagEndpoint; {
	case v.IsUnknown():
		flagEndpoint = ""
	case v.ValueString() != "":
		flagEndpoint = v.ValueString()
	case flagEndpoint != "":
		if _, err := protocol.ParseAddress(flagEndpoint); err != nil {
			diags.AddAttributeError(path.Root("flag_endpoint"), "Invalid flag endpoint",
				fmt.Sprintf("The %s environment variable is not a valid base URL: %s", EnvFlagEndpoint, err))
			return "", false
		}
	}
	return flagEndpoint, true
}

// clients makes the client of targets, routers and the flag service, and
// the client of Prometheus and web checks.
func (p *codomyrmexProvider) clients(cfg providerModel, token string, timeout time.Duration, retries, maxConcurrency int) (client, metrics *protocol.Client, err error) {
	headers := map[string]string{}
	for k, v := range cfg.Headers.Elements() {
		if s, ok := v.(types.String); ok && !s.IsUnknown() && !s.IsNull() {
			headers[k] = s.ValueString()
		}
	}

	client, err = protocol.NewClient(protocol.ClientConfig{
		Token:              token,
		Headers:            headers,
		UserAgent:          "terraform-provider-codomyrmex/" + p.version,
		RequestTimeout:     timeout,
		Retries:            retries,
		CACertPEM:          cfg.CACertPEM.ValueString(),
		ClientCertPEM:      cfg.ClientCertPEM.ValueString(),
		ClientKeyPEM:       cfg.ClientKeyPEM.ValueString(),
		InsecureSkipVerify: cfg.InsecureSkipVerify.ValueBool(),
		// Every call in flight may go to the same load balancer or simulator.
		MaxIdleConnsPerHost: max(maxConcurrency, protocol.DefaultMaxIdleConnsPerHost),
		Log:                 httpLog(),
	})
	if err != nil {
		return nil, nil, err
	}

	metrics, err = protocol.NewClient(protocol.ClientConfig{
		UserAgent:          "terraform-provider-codomyrmex/" + p.version,
		RequestTimeout:     timeout,
		Retries:            retries,
		CACertPEM:          cfg.CACertPEM.ValueString(),
		InsecureSkipVerify: cfg.InsecureSkipVerify.ValueBool(),
		Log:                httpLog(),
	})
	if err != nil {
		return nil, nil, err
	}
	return client, metrics, nil
}

func (p *codomyrmexProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return &deploymentResource{resourceBase{clock: p.clock}} },
		func() resource.Resource { return &featureRolloutResource{resourceBase{clock: p.clock}} },
	}
}

func (p *codomyrmexProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		func() datasource.DataSource { return &fleetDataSource{} },
		func() datasource.DataSource { return &flagDataSource{} },
	}
}

func (p *codomyrmexProvider) Functions(_ context.Context) []func() function.Function {
	return []func() function.Function{
		NewRolloutBucketFunction,
		NewInRolloutFunction,
		NewLinearStagesFunction,
	}
}

// httpLog logs every HTTP attempt and answer at DEBUG, when anyone reads
// provider logs. Each line costs the provider and then the CLI some 25 µs:
// with 100 calls in flight that is a burst of CPU at the start of every
// batch, on the rollout's critical path, for lines that would be dropped.
func httpLog() func(ctx context.Context, msg string, fields map[string]any) {
	if providerLogsUnread() {
		return nil
	}
	return func(ctx context.Context, msg string, fields map[string]any) {
		tflog.SubsystemDebug(ctx, "http", msg, fields)
	}
}

// mask keeps the token out of every log line written with ctx, whatever
// field or message it hides in.
func (d *providerData) mask(ctx context.Context) context.Context {
	if d == nil {
		return ctx
	}
	return maskToken(ctx, d.token)
}

func maskToken(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	ctx = tflog.MaskAllFieldValuesStrings(ctx, token)
	return tflog.MaskMessageStrings(ctx, token)
}
