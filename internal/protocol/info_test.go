package protocol

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// The agent's header is on every answer, /v1/info says the same, and a
// client logs each agent it meets once, whatever the number of calls.
func TestInfoHeaderLoggedOncePerAgent(t *testing.T) {
	t.Parallel()
	serve := Info{Name: "codomyrmex-agent", Version: "0.2.0", Protocol: Version, Mode: "serve"}
	router := Info{Name: "codomyrmex-agent", Version: "0.1.0", Protocol: Version, Mode: "router"}
	mux := http.NewServeMux()
	mux.Handle("/t/", WithAgentHeader(serve, http.StripPrefix("/t", NewTargetHandler(&memTarget{}, ""))))
	mux.Handle("GET /t/v1/info", WithAgentHeader(serve, InfoHandler(serve)))
	mux.Handle("/router/", WithAgentHeader(router, http.StripPrefix("/router", NewRouterHandler(&memRouter{}, ""))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	var mu sync.Mutex
	var met []string
	c := newTestClient(t, ClientConfig{Log: func(_ context.Context, msg string, f map[string]any) {
		if msg == "met codomyrmex-agent" {
			mu.Lock()
			met = append(met, fmt.Sprint(f["agent"]))
			mu.Unlock()
		}
	}})
	ctx := context.Background()
	for range 3 {
		if err := c.Deploy(ctx, srv.URL+"/t", DeployRequest{Deployment: "web", Version: "1.0.0"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetWeights(ctx, srv.URL+"/router", WeightsRequest{Deployment: "web", Version: "1.0.0", Percentage: 10}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"codomyrmex-agent/0.2.0 protocol/1 mode/serve", "codomyrmex-agent/0.1.0 protocol/1 mode/router"}
	if len(met) != len(want) || met[0] != want[0] || met[1] != want[1] {
		t.Errorf("met %q, want %q", met, want)
	}

	resp, err := http.Get(srv.URL + "/t/v1/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got Info
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got != serve || resp.Header.Get(AgentHeader) != want[0] {
		t.Errorf("GET /v1/info = %+v with %s %q, want %+v", got, AgentHeader, resp.Header.Get(AgentHeader), serve)
	}
}
