// Package bench is `make bench` end to end: it builds the provider and the
// agent, starts `codomyrmex-agent simulate` with N targets and a per-call
// latency, drives a real CLI (apply, plan, refresh) through a dev_overrides
// CLI configuration, and reports each command's wall time next to the ideal
// the network allows, with the provider's CPU time and peak RSS.
package bench

import "time"

// ceilDiv is ⌈a / b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int) int {
	return (a + b - 1) / b
}

// IdealApply is the least time a rolling apply of n targets can take when
// every call costs its latency and nothing else: the engine deploys
// min(batchSize, maxConcurrency) targets at once and polls each one's health
// right after its deploy, so ⌈n / min(B, max_concurrency)⌉ rounds of
// (deploy + health) latency, plus batchDelay between consecutive batches.
func IdealApply(n, batchSize, maxConcurrency int, deployLatency, healthLatency, batchDelay time.Duration) time.Duration {
	if n <= 0 || batchSize <= 0 || maxConcurrency <= 0 {
		return 0
	}
	rounds := ceilDiv(n, min(batchSize, maxConcurrency))
	batches := ceilDiv(n, batchSize)
	return time.Duration(rounds)*(deployLatency+healthLatency) + time.Duration(batches-1)*batchDelay
}

// RefreshFloor is the least time reading n targets' versions can take: one
// health call each, maxConcurrency at a time.
func RefreshFloor(n, maxConcurrency int, healthLatency time.Duration) time.Duration {
	if n <= 0 || maxConcurrency <= 0 {
		return 0
	}
	return time.Duration(ceilDiv(n, maxConcurrency)) * healthLatency
}
