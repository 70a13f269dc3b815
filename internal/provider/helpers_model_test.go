package provider

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// parseSeeds reads the seeds of a model-based test from the environment
// variable env: "1,2,7", a range "1..50", or "count=N" (seeds 1..N);
// defaults when env is unset or empty.
func parseSeeds(t *testing.T, env string, defaults []uint64) []uint64 {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(env))
	if v == "" {
		return defaults
	}
	parse := func(s string) uint64 {
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v (want \"1,2,7\", \"1..50\" or \"count=N\")", env, v, err)
		}
		return n
	}
	var seeds []uint64
	switch {
	case strings.HasPrefix(v, "count="):
		for i := uint64(1); i <= parse(strings.TrimPrefix(v, "count=")); i++ {
			seeds = append(seeds, i)
		}
	case strings.Contains(v, ".."):
		lo, hi, _ := strings.Cut(v, "..")
		for i := parse(lo); i <= parse(hi); i++ {
			seeds = append(seeds, i)
		}
	default:
		for _, s := range strings.Split(v, ",") {
			seeds = append(seeds, parse(s))
		}
	}
	return seeds
}

// parseSteps reads the number of steps of a model-based test from the
// environment variable env; def when env is unset or empty.
func parseSteps(t *testing.T, env string, def int) int {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number of steps", env, v)
	}
	return n
}
