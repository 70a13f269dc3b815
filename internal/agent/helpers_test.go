package agent

import "testing"

// must is newFn(cfg) for a configuration the test expects to be valid: an
// error fails the test.
func must[C, T any](t testing.TB, newFn func(C) (T, error), cfg C) T {
	t.Helper()
	v, err := newFn(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustHost(t testing.TB, cfg HostConfig) *Host {
	t.Helper()
	return must(t, NewHost, cfg)
}

func mustRouter(t testing.TB, cfg RouterConfig) *Router {
	t.Helper()
	return must(t, NewRouter, cfg)
}
