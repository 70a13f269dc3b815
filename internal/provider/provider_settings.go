package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

var _ provider.ProviderWithValidateConfig = (*codomyrmexProvider)(nil)

// ValidateConfig checks the token, the headers and the TLS material of the
// provider block at validate, each error on its attribute: the same checks
// the HTTP client makes, so Configure never meets them. Values unknown at
// validate are checked when known. No message carries a value.
func (p *codomyrmexProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(cfg.validate()...)
}

func (cfg providerModel) validate() diag.Diagnostics {
	var diags diag.Diagnostics
	known := func(v types.String) bool { return !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" }
	check := func(at path.Path, summary string, c protocol.ClientConfig) {
		if _, err := protocol.NewClient(c); err != nil {
			diags.AddAttributeError(at, summary, err.Error())
		}
	}

	if known(cfg.Token) {
		check(path.Root("token"), "Invalid token", protocol.ClientConfig{Token: cfg.Token.ValueString()})
	}
	names := make([]string, 0, len(cfg.Headers.Elements()))
	for k := range cfg.Headers.Elements() {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		at := path.Root("headers").AtMapKey(k)
		v, _ := cfg.Headers.Elements()[k].(types.String)
		switch {
		case v.IsUnknown():
		case v.IsNull():
			diags.AddAttributeError(at, "Invalid header", fmt.Sprintf("headers[%q] is null: give the header a value or leave it out.", k))
		default:
			check(at, "Invalid header", protocol.ClientConfig{Headers: map[string]string{k: v.ValueString()}})
		}
	}
	if known(cfg.CACertPEM) {
		check(path.Root("ca_cert_pem"), "Invalid CA certificate", protocol.ClientConfig{CACertPEM: cfg.CACertPEM.ValueString()})
	}
	if known(cfg.ClientCertPEM) && known(cfg.ClientKeyPEM) {
		c := protocol.ClientConfig{ClientCertPEM: cfg.ClientCertPEM.ValueString(), ClientKeyPEM: cfg.ClientKeyPEM.ValueString()}
		if _, err := protocol.NewClient(c); err != nil {
			at := path.Root("client_cert_pem")
			if strings.HasPrefix(err.Error(), "client_key_pem") {
				at = path.Root("client_key_pem")
			}
			diags.AddAttributeError(at, "Invalid client certificate", err.Error())
		}
	}
	return diags
}

// unknownSettings names the settings of the provider block that shape a
// call (where it goes, what it carries, whom it trusts) and are unknown at
// plan: they depend on values known only at apply. Timeouts and retries
// unknown at plan take their defaults.
func (cfg providerModel) unknownSettings() []string {
	var unknown []string
	add := func(name string, u bool) {
		if u {
			unknown = append(unknown, name)
		}
	}
	add("token", cfg.Token.IsUnknown())
	add("flag_endpoint", cfg.FlagEndpoint.IsUnknown())
	headers := cfg.Headers.IsUnknown()
	for _, v := range cfg.Headers.Elements() {
		headers = headers || v.IsUnknown()
	}
	add("headers", headers)
	add("ca_cert_pem", cfg.CACertPEM.IsUnknown())
	add("client_cert_pem", cfg.ClientCertPEM.IsUnknown())
	add("client_key_pem", cfg.ClientKeyPEM.IsUnknown())
	add("insecure_skip_verify", cfg.InsecureSkipVerify.IsUnknown())
	return unknown
}

// unknownSettings names the provider settings unknown until apply.
func (d *providerData) unknownSettings() []string {
	if d == nil {
		return nil
	}
	return d.unknown
}

// publishedFlags records which flags were published at which endpoint in
// this run of the provider: a rollout being destroyed leaves alone a flag
// that another rollout of the same name published in the same apply (the
// new object of a create_before_destroy replacement).
type publishedFlags struct {
	mu   sync.Mutex
	seen map[[2]string]bool
}

func (p *publishedFlags) add(endpoint, flag string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil {
		p.seen = map[[2]string]bool{}
	}
	p.seen[[2]string{endpoint, flag}] = true
}

func (p *publishedFlags) has(endpoint, flag string) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[[2]string{endpoint, flag}]
}
