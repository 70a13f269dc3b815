package flags

import (
	"net/http/httptest"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// TestServiceTokens: the service accepts any token of its sets, which may
// change while it serves; OFREP takes a bearer token or X-API-Key, and an
// unknown path is 404 before any token is asked for.
func TestServiceTokens(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	tokens, ofrep := protocol.NewTokens("w1", "w2"), protocol.NewTokens("r1")
	srv := httptest.NewServer(NewService(s, ServiceConfig{Tokens: tokens, OFREPTokens: ofrep}))
	defer srv.Close()
	status := func(method, path, header, value string) int {
		t.Helper()
		code, _, _ := do(t, method, srv.URL+path, `{"context":{"targetingKey":"u"}}`, header, value)
		return code
	}
	const bulk = "/ofrep/v1/evaluate/flags"
	for _, tc := range []struct {
		method, path, header, value string
		want                        int
	}{
		{"GET", "/v1/flags/x", "Authorization", "Bearer w1", 404},
		{"GET", "/v1/flags/x", "Authorization", "Bearer w2", 404},
		{"GET", "/v1/flags/x", "Authorization", "Bearer r1", 401},
		{"POST", bulk, "", "", 401},
		{"POST", bulk, "Authorization", "Bearer r1", 200},
		{"POST", bulk, "X-API-Key", "r1", 200},
		{"POST", bulk, "X-API-Key", "w1", 401},
		{"POST", bulk + "/x", "X-API-Key", "r1", 404},
		{"GET", bulk, "X-API-Key", "r1", 405},
		{"GET", bulk, "", "", 401},
		{"POST", "/ofrep/v2/other", "", "", 404},
	} {
		if got := status(tc.method, tc.path, tc.header, tc.value); got != tc.want {
			t.Errorf("%s %s with %s %q = %d, want %d", tc.method, tc.path, tc.header, tc.value, got, tc.want)
		}
	}
	ofrep.Replace("r2")
	if got := status("POST", bulk, "X-API-Key", "r1"); got != 401 {
		t.Errorf("replaced OFREP token: %d, want 401", got)
	}
	if got := status("POST", bulk, "X-API-Key", "r2"); got != 200 {
		t.Errorf("new OFREP token: %d, want 200", got)
	}
}
