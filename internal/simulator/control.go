package simulator

import (
	"fmt"
	"maps"
	"net/http"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// simState is the body of GET /_sim/state.
type simState struct {
	Targets    map[string]string        `json:"targets"`
	Router     RouterState              `json:"router"`
	Flags      map[string]protocol.Flag `json:"flags"`
	Calls      map[string]int           `json:"calls"`
	Deploys    []DeployRecord           `json:"deploys"`
	Faults     map[string]Fault         `json:"faults"`
	RouterDown bool                     `json:"router_down"`
	FlagsDown  bool                     `json:"flags_down"`
}

func (f *Fleet) serveState(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	st := simState{
		Targets:    make(map[string]string, len(f.targets)),
		Router:     f.routerLocked(),
		Flags:      maps.Clone(f.flags),
		Calls:      maps.Clone(f.calls),
		Deploys:    append([]DeployRecord{}, f.deploys...),
		Faults:     maps.Clone(f.faults),
		RouterDown: f.routerDown,
		FlagsDown:  f.flagsDown,
	}
	for id, t := range f.targets {
		st.Targets[id] = t.version
	}
	f.mu.Unlock()
	protocol.WriteJSON(w, http.StatusOK, st)
}

// serveFault takes {"target": "t1" or "*", "fault": {...}} to set a fault
// (an empty fault clears it), or {"clear": true} to clear them all.
func (f *Fleet) serveFault(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Target string `json:"target"`
		Fault  Fault  `json:"fault"`
		Clear  bool   `json:"clear"`
	}
	if !protocol.ReadJSON(w, r, &req, true) {
		return
	}
	switch {
	case req.Clear:
		f.ClearFaults()
	case req.Target == "*" || f.targets[req.Target] != nil:
		f.SetFault(req.Target, req.Fault)
	default:
		protocol.WriteError(w, http.StatusNotFound, fmt.Sprintf(`no simulated target %q (use an id or "*")`, req.Target))
		return
	}
	f.mu.Lock()
	faults := maps.Clone(f.faults)
	f.mu.Unlock()
	protocol.WriteJSON(w, http.StatusOK, faults)
}

// serveVersion takes {"target": "t1", "version": "v0"} to simulate drift.
func (f *Fleet) serveVersion(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Target  string `json:"target"`
		Version string `json:"version"`
	}
	if !protocol.ReadJSON(w, r, &req, true) {
		return
	}
	if f.targets[req.Target] == nil {
		protocol.WriteError(w, http.StatusNotFound, fmt.Sprintf("no simulated target %q", req.Target))
		return
	}
	f.SetVersion(req.Target, req.Version)
	protocol.WriteJSON(w, http.StatusOK, req)
}
