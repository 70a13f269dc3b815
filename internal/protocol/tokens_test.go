package protocol

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

type okTarget struct{}

func (okTarget) Deploy(context.Context, DeployRequest) error { return nil }
func (okTarget) Health(context.Context) (Health, error) {
	return Health{Status: HealthOK, Version: "v1"}, nil
}

// TestTokensRotation: every token of the set is accepted, a replaced set
// takes effect on the next call, and an empty set accepts every call.
func TestTokensRotation(t *testing.T) {
	t.Parallel()
	tokens := NewTokens("old", "", "new")
	srv := httptest.NewServer(NewTargetHandlerWithTokens(okTarget{}, tokens))
	defer srv.Close()
	status := func(path, token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		step, token, path string
		want              int
	}{
		{"both accepted", "old", "/v1/health", 200},
		{"both accepted", "new", "/v1/health", 200},
		{"empty is no token", "", "/v1/health", 401},
		{"other token", "other", "/v1/health", 401},
		{"prefix of a token", "ne", "/v1/health", 401},
		{"unknown path before the token", "", "/v2/nothing", 404},
	} {
		if got := status(tc.path, tc.token); got != tc.want {
			t.Errorf("%s: %s with %q = %d, want %d", tc.step, tc.path, tc.token, got, tc.want)
		}
	}
	tokens.Replace("new")
	if got := status("/v1/health", "old"); got != 401 {
		t.Errorf("removed token: %d, want 401", got)
	}
	if got := status("/v1/health", "new"); got != 200 {
		t.Errorf("kept token: %d, want 200", got)
	}
	tokens.Replace()
	if got := status("/v1/health", ""); got != 200 || tokens.Required() {
		t.Errorf("empty set: %d, required %v; want every call accepted", got, tokens.Required())
	}
	var none *Tokens
	if !none.Accepts("x") || none.Required() {
		t.Error("a nil *Tokens must accept every call")
	}
}

// TestCallContext: a Call travels in the context and records whether a
// backend logged it.
func TestCallContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if CallFrom(ctx) != nil || CallerOf(ctx) != "" {
		t.Error("a context without a call has one")
	}
	MarkLogged(ctx) // no call: nothing to mark, no panic
	c := &Call{Caller: "192.0.2.1:5000"}
	ctx = WithCall(ctx, c)
	if CallerOf(ctx) != "192.0.2.1:5000" || c.Logged() {
		t.Errorf("caller %q, logged %v", CallerOf(ctx), c.Logged())
	}
	MarkLogged(ctx)
	if !c.Logged() {
		t.Error("MarkLogged did not mark the call")
	}
}
