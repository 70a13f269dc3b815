package flags

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/counters"
)

// The metric names and labels here are relied on by users' dashboards and
// alerts, and by examples/monitoring (docs/guides/running-the-agent.md
// lists them): do not rename them.

// Results of a flag write, the result label of codomyrmex_flags_writes_total.
const (
	WriteSucceeded = "succeeded"
	WriteFailed    = "failed"
	// WriteRefused: nothing was stored (a missing or wrong token, a
	// document ValidateFlag rejects).
	WriteRefused = "refused"
)

// ReasonError counts OFREP evaluations that gave no value (an unknown
// flag, a request without a usable context).
const ReasonError = "ERROR"

// Metrics are what the flag service exposes.
type Metrics struct {
	writes      *prometheus.CounterVec
	evaluations *prometheus.CounterVec
}

// NewMetrics registers the flag service's metrics on reg (none when nil):
//
//	codomyrmex_flags_writes_total{result}           PUT and DELETE: succeeded, failed, refused
//	codomyrmex_flag_percentage{flag}                 each stored flag's percentage
//	codomyrmex_ofrep_evaluations_total{reason}       SPLIT, DISABLED, ERROR
//
// The percentages are read from s at each scrape.
func NewMetrics(reg prometheus.Registerer, s *Store) *Metrics {
	m := &Metrics{
		writes: counters.New("codomyrmex_flags_writes_total",
			"Flag writes (PUT and DELETE /v1/flags/NAME) answered, by result: succeeded, failed, refused (nothing stored).",
			[]string{"result"}, []string{WriteSucceeded, WriteFailed, WriteRefused}),
		evaluations: counters.New("codomyrmex_ofrep_evaluations_total",
			"OFREP flag evaluations, by reason: SPLIT, DISABLED, or ERROR when no value was given (a bulk request counts each flag).",
			[]string{"reason"}, []string{ReasonSplit, ReasonDisabled, ReasonError}),
	}
	if reg != nil {
		reg.MustRegister(m.writes, m.evaluations, percentages{s})
	}
	return m
}

// RefusedWrite counts a write refused before it reached the store (a
// missing or wrong token, a document ValidateFlag rejects).
func (m *Metrics) RefusedWrite() { m.write(WriteRefused) }

func (m *Metrics) write(result string) {
	if m != nil {
		m.writes.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) evaluated(reason string) {
	if m != nil {
		m.evaluations.WithLabelValues(reason).Inc()
	}
}

// percentages is codomyrmex_flag_percentage, read from the store.
type percentages struct{ s *Store }

var percentageDesc = prometheus.NewDesc("codomyrmex_flag_percentage",
	"Percentage of a stored flag: the share of targeting keys its rollout exposes.", []string{"flag"}, nil)

func (p percentages) Describe(ch chan<- *prometheus.Desc) { ch <- percentageDesc }

func (p percentages) Collect(ch chan<- prometheus.Metric) {
	flags, err := p.s.List(context.Background())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(percentageDesc, err)
		return
	}
	for _, f := range flags {
		ch <- prometheus.MustNewConstMetric(percentageDesc, prometheus.GaugeValue, f.Percentage, f.Flag)
	}
}

// evaluationCounter is a Source that counts the evaluations made from it.
type evaluationCounter interface {
	evaluated(reason string)
}

// countEvaluation counts an evaluation of src's when src counts them.
func countEvaluation(src Source, reason string) {
	if c, ok := src.(evaluationCounter); ok {
		c.evaluated(reason)
	}
}

// countedSource is a Source whose evaluations m counts.
type countedSource struct {
	*Store
	m *Metrics
}

func (c countedSource) evaluated(reason string) { c.m.evaluated(reason) }
