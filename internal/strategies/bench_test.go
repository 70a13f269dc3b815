package strategies

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// memFleet is the cheapest possible fleet: the engine's own cost dominates.
type memFleet struct {
	versions sync.Map // id → version
}

func (m *memFleet) env() Env {
	return Env{
		Deploy: func(_ context.Context, t Target, version, _ string) error {
			m.versions.Store(t.ID, version)
			return nil
		},
		Health: func(_ context.Context, t Target) (string, error) {
			v, _ := m.versions.Load(t.ID)
			s, _ := v.(string)
			return s, nil
		},
		Switch:  func(context.Context, string, string) error { return nil },
		Weights: func(context.Context, string, float64) error { return nil },
		Publish: func(context.Context, float64) error { return nil },
		Clock:   clocktest.NewFake(epoch),
	}
}

func benchTargets(n int) []Target {
	targets := make([]Target, n)
	for i := range targets {
		id := fmt.Sprintf("t%d", i+1)
		slot := SlotBlue
		if i%2 == 1 {
			slot = SlotGreen
		}
		targets[i] = Target{ID: id, Address: "http://127.0.0.1:7070/t/" + id, Slot: slot}
	}
	return targets
}

func BenchmarkExecute(b *testing.B) {
	configs := map[string]func(*Config){
		// Ten batches whatever the fleet size: batch_size 1 over 10000
		// targets would measure goroutine start-up, not the engine.
		NameRolling:     func(c *Config) { c.Rolling.BatchCount = 10 },
		NameBlueGreen:   nil,
		NameCanary:      nil,
		NameFeatureFlag: func(c *Config) { c.FeatureFlag.InitialRollout = 10 },
	}
	for _, name := range Names() {
		for _, n := range []int{10, 1000, 10000} {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				strategy := mustNew(b, name, configs[name])
				targets := benchTargets(n)
				b.ReportAllocs()
				per := startPerTarget(n)
				for b.Loop() {
					m := &memFleet{}
					req := Request{
						Deployment:      "bench",
						Version:         "v2",
						PreviousVersion: "v1",
						Targets:         targets,
						AutoRollback:    true,
						HealthCheck:     hc(),
					}
					if res := strategy.Execute(context.Background(), req, m.env()); !res.Success {
						b.Fatalf("rollout failed: %v", res.Errors)
					}
				}
				per.report(b)
			})
		}
	}
}

func BenchmarkRollback(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			strategy := mustNew(b, NameRolling, nil)
			targets := benchTargets(n)
			b.ReportAllocs()
			per := startPerTarget(n)
			for b.Loop() {
				m := &memFleet{}
				req := Request{Deployment: "bench", Version: "v2", PreviousVersion: "v1", Targets: targets, HealthCheck: hc()}
				if res := strategy.Rollback(context.Background(), req, m.env(), targets); !res.Success {
					b.Fatalf("rollback failed: %v", res.RollbackErrors)
				}
			}
			per.report(b)
		})
	}
}

// perTarget turns a benchmark's totals into per-target figures, so that
// fleets of different sizes compare directly: the engine should cost the
// same per target at 10 and at 10000 targets.
type perTarget struct {
	targets int
	mallocs uint64
}

func startPerTarget(targets int) perTarget {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return perTarget{targets: targets, mallocs: ms.Mallocs}
}

// report adds ns/target and allocs/target; call it after the b.Loop loop.
func (p perTarget) report(b *testing.B) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runs := float64(b.N) * float64(p.targets)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/runs, "ns/target")
	b.ReportMetric(float64(ms.Mallocs-p.mallocs)/runs, "allocs/target")
}

// BenchmarkSlowStart measures wall time on the real clock when targets take
// a while to start: each one answers its first health poll unhealthy and
// the second healthy, 10 ms later. 200 targets in batches of 100 with 32
// slots: a target that kept its slot while waiting between polls made
// every batch ceil(100/32) = 4 waves of 10 ms; giving it up lets the whole
// batch start in one wave. ideal-ms is 2 batches × 1 interval.
func BenchmarkSlowStart(b *testing.B) {
	const n, interval = 200, 10 * time.Millisecond
	strategy := mustNew(b, NameRolling, func(c *Config) { c.Rolling.BatchSize, c.Rolling.BatchDelay = 100, 0 })
	targets := benchTargets(n)
	for b.Loop() {
		var polls sync.Map // id → *atomic.Int32
		env := Env{
			Deploy: func(context.Context, Target, string, string) error { return nil },
			Health: func(_ context.Context, t Target) (string, error) {
				c, _ := polls.LoadOrStore(t.ID, new(atomic.Int32))
				if c.(*atomic.Int32).Add(1) == 1 { //nolint:forcetypeassert // only *atomic.Int32 is stored
					return "", errBoom
				}
				return "v2", nil
			},
			Clock: clock.Real(),
			Limit: NewLimiter(32),
		}
		req := Request{
			Deployment: "bench", Version: "v2", PreviousVersion: "v1", Targets: targets,
			HealthCheck: HealthCheck{Enabled: true, Interval: interval, Timeout: time.Second, ExpectVersion: true},
		}
		if res := strategy.Execute(context.Background(), req, env); !res.Success {
			b.Fatalf("rollout failed: %v", res.Errors)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/rollout")
	b.ReportMetric(float64(2*interval/time.Millisecond), "ideal-ms")
}

// BenchmarkAnalysisWindow: a canary of 1000 targets over 4 stages, without
// analysis and with 3 metrics measured 11 times in each stage's window and
// the bake (a 5m window at 30s intervals). The measurements cost nothing
// here, so the difference is what the engine adds per measurement: on a
// real fleet a window costs its queries and nothing more.
func BenchmarkAnalysisWindow(b *testing.B) {
	metrics := []MetricLimit{{Name: "error-rate"}, {Name: "latency-p99"}, {Name: "smoke"}}
	for _, withAnalysis := range []bool{false, true} {
		name := "none"
		if withAnalysis {
			name = "3-metrics"
		}
		b.Run(name, func(b *testing.B) {
			strategy := mustNew(b, NameCanary, func(c *Config) { c.Canary.StageInterval = 5 * time.Minute })
			targets := benchTargets(1000)
			var measured atomic.Int64
			b.ReportAllocs()
			for b.Loop() {
				m := &memFleet{}
				env := m.env()
				req := Request{
					Deployment: "bench", Version: "v2", PreviousVersion: "v1",
					Targets: targets, AutoRollback: true, HealthCheck: hc(),
					Bake: 5 * time.Minute,
				}
				if withAnalysis {
					req.Analysis = Analysis{Interval: 30 * time.Second, Metrics: metrics}
					env.Measure = func(context.Context, int, Window) Measurement {
						measured.Add(1)
						return Measurement{Value: "0", Passed: true, Threshold: "max 0.01"}
					}
				}
				if res := strategy.Execute(context.Background(), req, env); !res.Success {
					b.Fatalf("rollout failed: %v", res.Errors)
				}
			}
			if withAnalysis {
				b.ReportMetric(float64(measured.Load())/float64(b.N), "measurements/op")
			}
		})
	}
}

// BenchmarkNotices: a canary of 1000 targets over 4 stages, without
// notifications and with every notice kept (started, 4 stage_passed,
// completed, each naming its targets). The difference is what the engine
// adds to send notices; delivering them is internal/notify's, on its own
// goroutine, and the network's.
func BenchmarkNotices(b *testing.B) {
	for _, notify := range []bool{false, true} {
		name := "none"
		if notify {
			name = "notify"
		}
		b.Run(name, func(b *testing.B) {
			strategy := mustNew(b, NameCanary, func(c *Config) { c.Canary.StageInterval = 0 })
			targets := benchTargets(1000)
			var sent int
			b.ReportAllocs()
			for b.Loop() {
				m := &memFleet{}
				env := m.env()
				if notify {
					env.Notify = func(n Notice) { sent++ }
				}
				req := Request{Deployment: "bench", Version: "v2", PreviousVersion: "v1", Targets: targets, AutoRollback: true, HealthCheck: hc()}
				if res := strategy.Execute(context.Background(), req, env); !res.Success {
					b.Fatalf("rollout failed: %v", res.Errors)
				}
			}
			if notify {
				b.ReportMetric(float64(sent)/float64(b.N), "notices/op")
			}
		})
	}
}
