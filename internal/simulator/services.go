package simulator

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// service mounts a router or flag service handler under prefix, counting
// calls and answering 503 while *down.
func (f *Fleet) service(prefix string, down *bool, name string, h http.Handler) http.Handler {
	h = http.StripPrefix(prefix, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.observe(serviceCallKind(strings.TrimPrefix(r.URL.Path, prefix), r.Method), r)
		f.mu.Lock()
		isDown := *down
		f.mu.Unlock()
		if isDown {
			protocol.WriteError(w, http.StatusServiceUnavailable, "simulated outage of the "+name)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func serviceCallKind(path, method string) string {
	switch {
	case path == "/v1/switch":
		return CallSwitch
	case path == "/v1/weights":
		return CallWeights
	case strings.HasPrefix(path, "/v1/flags/"):
		switch method {
		case http.MethodPut:
			return CallFlagPut
		case http.MethodGet:
			return CallFlagGet
		case http.MethodDelete:
			return CallFlagDelete
		}
	}
	return ""
}

// simRouter is the fleet's protocol.RouterBackend.
type simRouter struct{ f *Fleet }

func (r simRouter) Switch(_ context.Context, req protocol.SwitchRequest) error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.f.router.ActiveSlot = req.Slot
	r.f.router.Version = req.Version
	r.f.router.Switches++
	r.f.routes[req.Deployment] = protocol.RouterRoute{Slot: req.Slot, Version: req.Version, UpdatedAt: now()}
	return nil
}

func (r simRouter) SetWeights(_ context.Context, req protocol.WeightsRequest) error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.f.router.Weights[req.Version] = req.Percentage
	r.f.routes[req.Deployment] = protocol.RouterRoute{Weights: map[string]float64{req.Version: req.Percentage}, UpdatedAt: now()}
	return nil
}

// RouterState answers GET /router/v1/state as `codomyrmex-agent router`
// does: what each deployment's last switch or weights call set.
func (r simRouter) RouterState(context.Context) (any, error) {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	st := protocol.RouterState{Deployments: make(map[string]protocol.RouterRoute, len(r.f.routes))}
	for d, route := range r.f.routes {
		route.Weights = maps.Clone(route.Weights)
		st.Deployments[d] = route
	}
	return st, nil
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

// simFlags is the fleet's protocol.FlagStore.
type simFlags struct{ f *Fleet }

func (s simFlags) Put(_ context.Context, fl protocol.Flag) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.flags[fl.Flag] = cloneFlag(fl)
	return nil
}

func (s simFlags) Get(_ context.Context, name string) (protocol.Flag, bool, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	fl, ok := s.f.flags[name]
	return cloneFlag(fl), ok, nil
}

func (s simFlags) Delete(_ context.Context, name string) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	delete(s.f.flags, name)
	return nil
}
