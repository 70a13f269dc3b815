package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// Exit codes of a check (`codomyrmex-agent status`).
const (
	ExitMatches = 0 // the fleet runs what state says
	ExitFailed  = 1 // a call failed: the fleet could not be asked
	ExitDiffers = 3 // the fleet differs from state
)

// Asker asks the fleet; *protocol.Client is one.
type Asker interface {
	Health(ctx context.Context, address, path string) (protocol.Health, error)
	RouterState(ctx context.Context, routerURL string) (protocol.RouterState, []byte, error)
	ReadFlag(ctx context.Context, endpoint, name string) (protocol.Flag, error)
}

// Options tune a check.
type Options struct {
	// FlagEndpoint is the flag service of feature_flag deployments (the
	// provider's flag_endpoint, which state does not hold); "" to not ask.
	FlagEndpoint string
	// Concurrency bounds the calls in flight (default 16).
	Concurrency int
}

// Report is one check of every resource.
type Report struct {
	Resources []ResourceReport `json:"resources"`
	// Differences counts the rows whose live value differs from state.
	Differences int `json:"differences"`
	// Errors are the calls that failed, each naming the call.
	Errors []string `json:"errors"`
}

// ExitCode is ExitFailed when a call failed, else ExitDiffers when the
// fleet differs from state, else ExitMatches.
func (r Report) ExitCode() int {
	switch {
	case len(r.Errors) > 0:
		return ExitFailed
	case r.Differences > 0:
		return ExitDiffers
	}
	return ExitMatches
}

// ResourceReport is what state says of one resource and, row by row,
// what runs beside it.
type ResourceReport struct {
	Address string `json:"address"`
	Type    string `json:"type"`
	// Deployments: the strategy, version, status, gate and traffic saved.
	Strategy string   `json:"strategy,omitempty"`
	Version  string   `json:"version,omitempty"`
	Status   string   `json:"status,omitempty"`
	PausedAt *float64 `json:"paused_at,omitempty"`
	ResumeAt *string  `json:"resume_at,omitempty"`
	Traffic  *float64 `json:"traffic_percentage,omitempty"`
	// Rollouts: the flag, its state and when it advances next.
	FlagName      string  `json:"flag_name,omitempty"`
	State         string  `json:"state,omitempty"`
	NextAdvanceAt *string `json:"next_advance_at,omitempty"`

	Rows []Row `json:"rows"`
}

// Row is one thing state records beside what the fleet answered.
type Row struct {
	// Item is a target id, "traffic", "slot", or a field of a flag.
	Item  string `json:"item"`
	State string `json:"state"`
	Live  string `json:"live"`
	// Healthy is a target's health; nil for other rows or when the call
	// failed.
	Healthy *bool  `json:"healthy,omitempty"`
	Differs bool   `json:"differs"`
	Error   string `json:"error,omitempty"`
}

// Check asks the fleet what runs for every resource and compares it with
// state. It fails only when a resource's attributes cannot be read; calls
// that fail are in Report.Errors.
func Check(ctx context.Context, ask Asker, resources []Resource, opts Options) (Report, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	c := &checker{ask: ask, opts: opts, routers: map[string]*routerAnswer{}}
	c.g.SetLimit(opts.Concurrency)
	reports := make([]ResourceReport, len(resources))
	for i, r := range resources {
		var err error
		switch r.Type {
		case TypeDeployment:
			var d deployment
			if err = json.Unmarshal(r.Values, &d); err == nil {
				reports[i] = c.deployment(ctx, r.Address, d)
			}
		case TypeRollout:
			var ro rollout
			if err = json.Unmarshal(r.Values, &ro); err == nil {
				reports[i] = c.rollout(ctx, r.Address, ro)
			}
		default:
			err = fmt.Errorf("not a codomyrmex resource type: %s", r.Type)
		}
		if err != nil {
			return Report{}, fmt.Errorf("%s: reading its attributes: %w", r.Address, err)
		}
	}
	_ = c.g.Wait() // every call records its own failure
	rep := Report{Resources: reports, Errors: []string{}}
	for i := range reports {
		for _, row := range reports[i].Rows {
			if row.Differs {
				rep.Differences++
			}
			if row.Error != "" {
				rep.Errors = append(rep.Errors, row.Error)
			}
		}
	}
	return rep, nil
}

// checker runs the calls of one Check in parallel; each call fills its
// own rows.
type checker struct {
	ask  Asker
	opts Options
	g    errgroup.Group

	mu      sync.Mutex
	routers map[string]*routerAnswer // one GET per router URL
}

type routerAnswer struct {
	once sync.Once
	st   protocol.RouterState
	err  error
}

func (c *checker) router(ctx context.Context, u string) (protocol.RouterState, error) {
	c.mu.Lock()
	a, ok := c.routers[u]
	if !ok {
		a = &routerAnswer{}
		c.routers[u] = a
	}
	c.mu.Unlock()
	a.once.Do(func() { a.st, _, a.err = c.ask.RouterState(ctx, u) })
	return a.st, a.err
}

func (c *checker) deployment(ctx context.Context, address string, d deployment) ResourceReport {
	rep := ResourceReport{
		Address: address, Type: TypeDeployment, Strategy: d.Strategy, Version: d.Version, Status: d.Status,
		PausedAt: d.PausedAt, ResumeAt: d.ResumeAt, Traffic: d.Traffic,
	}
	n := len(d.Targets)
	rep.Rows = make([]Row, n, n+1)
	for i, t := range d.Targets {
		want, known := d.TargetVersions[t.ID]
		if !known {
			want = "-"
		}
		rep.Rows[i] = Row{Item: t.ID, State: want}
		row := &rep.Rows[i]
		c.g.Go(func() error {
			h, err := c.ask.Health(ctx, t.Address, d.healthPath())
			var unhealthy *protocol.UnhealthyError
			if err != nil && !errors.As(err, &unhealthy) {
				row.Live, row.Differs, row.Error = "could not ask", true, fmt.Sprintf("target %s: %v", t.ID, err)
				return nil
			}
			healthy := err == nil
			row.Healthy = &healthy
			row.Live = h.Version
			if row.Live == "" {
				row.Live = "(no version)"
			}
			row.Differs = !healthy || h.Version != want
			return nil
		})
	}
	switch u := d.routerURL(); {
	case u != "" && d.Canary != nil:
		rep.Rows = append(rep.Rows, Row{Item: "traffic", State: percent(d.Traffic) + " on " + d.Version})
		c.fromRouter(ctx, &rep.Rows[n], u, d.Name, func(route protocol.RouterRoute, ok bool) (string, bool) {
			p, known := share(route, ok, d.Version)
			if !known {
				return "no route for " + d.Name, true
			}
			return percent(&p) + " on " + d.Version, d.Traffic == nil || *d.Traffic != p
		})
	case u != "" && d.BlueGreen != nil:
		rep.Rows = append(rep.Rows, Row{Item: "slot", State: str(d.ActiveSlot)})
		c.fromRouter(ctx, &rep.Rows[n], u, d.Name, func(route protocol.RouterRoute, ok bool) (string, bool) {
			if !ok || route.Slot == "" {
				return "no switch for " + d.Name, true
			}
			return route.Slot + " (" + route.Version + ")", route.Slot != str(d.ActiveSlot)
		})
	case d.FeatureFlag != nil:
		rep.Rows = append(rep.Rows, Row{Item: "flag " + d.FeatureFlag.FlagName, State: percent(d.Traffic)})
		row := &rep.Rows[n]
		if c.opts.FlagEndpoint == "" {
			row.Live = "not asked (no flag endpoint)"
			break
		}
		c.g.Go(func() error {
			f, err := c.ask.ReadFlag(ctx, c.opts.FlagEndpoint, d.FeatureFlag.FlagName)
			switch {
			case errors.Is(err, protocol.ErrNotFound):
				row.Live, row.Differs = "absent", true
			case err != nil:
				row.Live, row.Differs, row.Error = "could not ask", true, fmt.Sprintf("flag service: %v", err)
			default:
				row.Live = percent(&f.Percentage)
				row.Differs = d.Traffic == nil || *d.Traffic != f.Percentage
			}
			return nil
		})
	}
	return rep
}

// fromRouter fills row from what the router at u last applied to the
// deployment name, as live decides.
func (c *checker) fromRouter(ctx context.Context, row *Row, u, name string, live func(route protocol.RouterRoute, ok bool) (string, bool)) {
	c.g.Go(func() error {
		st, err := c.router(ctx, u)
		if err != nil {
			row.Live, row.Differs, row.Error = "could not ask", true, fmt.Sprintf("router: %v", err)
			return nil
		}
		route, ok := st.Deployments[name]
		row.Live, row.Differs = live(route, ok)
		return nil
	})
}

// share is the share of the traffic the router gives version: its weight;
// the rest of another version's weight; 100 or 0 after a switch. known is
// false when the router has no route for the deployment.
func share(route protocol.RouterRoute, ok bool, version string) (p float64, known bool) {
	if !ok {
		return 0, false
	}
	if p, ok := route.Weights[version]; ok {
		return p, true
	}
	if len(route.Weights) == 1 {
		for _, other := range route.Weights {
			return 100 - other, true
		}
	}
	if route.Version != "" {
		if route.Version == version {
			return 100, true
		}
		return 0, true
	}
	return 0, false
}

func percent(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64) + "%"
}

func str(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

func (c *checker) rollout(ctx context.Context, address string, ro rollout) ResourceReport {
	rep := ResourceReport{
		Address: address, Type: TypeRollout, FlagName: ro.FlagName, State: ro.State, NextAdvanceAt: ro.NextAdvanceAt,
	}
	stage := "-"
	if ro.CurrentStage != nil {
		stage = strconv.Itoa(*ro.CurrentStage)
	}
	rep.Rows = []Row{
		{Item: "state", State: ro.State},
		{Item: "stage", State: stage},
		{Item: "percentage", State: percent(ro.Percentage)},
	}
	endpoint := str(ro.Endpoint)
	if endpoint == "-" || endpoint == "" {
		for i := range rep.Rows {
			rep.Rows[i].Live = "not asked (no endpoint: the rollout lives in state only)"
		}
		return rep
	}
	rows := rep.Rows
	c.g.Go(func() error {
		f, err := c.ask.ReadFlag(ctx, endpoint, ro.FlagName)
		switch {
		case errors.Is(err, protocol.ErrNotFound):
			for i := range rows {
				rows[i].Live, rows[i].Differs = "absent", true
			}
		case err != nil:
			rows[0].Error = fmt.Sprintf("flag service: %v", err)
			for i := range rows {
				rows[i].Live, rows[i].Differs = "could not ask", true
			}
		default:
			rows[0].Live, rows[0].Differs = f.State, f.State != ro.State
			rows[1].Live, rows[1].Differs = strconv.Itoa(f.Stage), f.Stage != intOr(ro.CurrentStage, -1)
			rows[2].Live, rows[2].Differs = percent(&f.Percentage), ro.Percentage == nil || *ro.Percentage != f.Percentage
		}
		return nil
	})
	return rep
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
