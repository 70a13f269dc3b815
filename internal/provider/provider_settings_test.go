package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func providerModelWith(mod func(*providerModel)) providerModel {
	m := providerModel{
		Token: types.StringNull(), FlagEndpoint: types.StringNull(), Headers: types.MapNull(types.StringType),
		RequestTimeout: types.StringNull(), Retries: types.Int64Null(), MaxConcurrency: types.Int64Null(),
		CACertPEM: types.StringNull(), ClientCertPEM: types.StringNull(), ClientKeyPEM: types.StringNull(),
		InsecureSkipVerify: types.BoolNull(),
	}
	mod(&m)
	return m
}

// Each bad setting is an error on its attribute path whose text carries no
// value of a secret.
func TestProviderValidate_pathsAndNoSecrets(t *testing.T) {
	t.Parallel()
	headers := func(elems map[string]attr.Value) types.Map { return types.MapValueMust(types.StringType, elems) }
	tests := []struct {
		name   string
		mod    func(*providerModel)
		path   path.Path
		secret string
	}{
		{"token", func(m *providerModel) { m.Token = types.StringValue("tok\nsecret-token") }, path.Root("token"), "secret-token"},
		{"header name", func(m *providerModel) {
			m.Headers = headers(map[string]attr.Value{"Bad Header": types.StringValue("secret-value")})
		}, path.Root("headers").AtMapKey("Bad Header"), "secret-value"},
		{"header value", func(m *providerModel) {
			m.Headers = headers(map[string]attr.Value{"X-Api-Key": types.StringValue("a\nsecret-value")})
		}, path.Root("headers").AtMapKey("X-Api-Key"), "secret-value"},
		{"null header", func(m *providerModel) {
			m.Headers = headers(map[string]attr.Value{"X-Team": types.StringNull()})
		}, path.Root("headers").AtMapKey("X-Team"), ""},
		{"ca_cert_pem", func(m *providerModel) { m.CACertPEM = types.StringValue("junk") }, path.Root("ca_cert_pem"), ""},
		{"client key", func(m *providerModel) {
			m.ClientCertPEM = types.StringValue("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
			m.ClientKeyPEM = types.StringValue("secret-key-material")
		}, path.Root("client_key_pem"), "secret-key-material"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			diags := providerModelWith(tt.mod).validate()
			if diags.ErrorsCount() != 1 {
				t.Fatalf("%d errors, want 1: %v", diags.ErrorsCount(), diags)
			}
			d := diags.Errors()[0]
			withPath, ok := d.(interface{ Path() path.Path })
			if !ok || !withPath.Path().Equal(tt.path) {
				t.Errorf("error %q is not on %s", d.Summary(), tt.path)
			}
			if tt.secret != "" && strings.Contains(d.Summary()+d.Detail(), tt.secret) {
				t.Errorf("error shows the secret: %s: %s", d.Summary(), d.Detail())
			}
		})
	}
}

// Values unknown at validate are not checked, and Configure lists them.
func TestProviderValidate_unknownValues(t *testing.T) {
	t.Parallel()
	m := providerModelWith(func(m *providerModel) {
		m.Token = types.StringUnknown()
		m.Headers = types.MapValueMust(types.StringType, map[string]attr.Value{"X-Team": types.StringUnknown(), "X-Ok": types.StringValue("1")})
		m.CACertPEM = types.StringUnknown()
		m.FlagEndpoint = types.StringUnknown()
	})
	if diags := m.validate(); diags.HasError() {
		t.Errorf("unknown values are errors: %v", diags)
	}
	if got, want := strings.Join(m.unknownSettings(), ","), "token,flag_endpoint,headers,ca_cert_pem"; got != want {
		t.Errorf("unknown settings %q, want %q", got, want)
	}
}
