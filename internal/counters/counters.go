// Package counters makes the Prometheus counters of the agent and the flag
// service: counter vectors whose series, one for every combination of the
// label values given, start at 0, so that the first failure shows in
// increase().
package counters

import "github.com/prometheus/client_golang/prometheus"

// New returns a counter vector named name with labels, and a series at 0
// for every combination of values (values[i] are the values of labels[i]).
func New(name, help string, labels []string, values ...[]string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	preset(c, nil, values)
	return c
}

func preset(c *prometheus.CounterVec, chosen []string, values [][]string) {
	if len(values) == 0 {
		c.WithLabelValues(chosen...)
		return
	}
	for _, v := range values[0] {
		preset(c, append(chosen[:len(chosen):len(chosen)], v), values[1:])
	}
}
