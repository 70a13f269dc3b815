package agent

import "testing"

// mustHost is NewHost(cfg) for a configuration the test expects to be
// valid: an error fails the test.
func mustHost(t testing.TB, cfg HostConfig) *Host {
	t.Helper()
	h, err := NewHost(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// mustRouter is NewRouter(cfg) for a configuration the test expects to be
// valid: an error fails the test.
func mustRouter(t testing.TB, cfg RouterConfig) *Router {
	t.Helper()
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
