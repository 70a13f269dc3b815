package bench

import (
	"testing"
	"time"
)

func TestIdealApply(t *testing.T) {
	t.Parallel()
	const l = 50 * time.Millisecond
	tests := map[string]struct {
		n, batch, limit int
		delay           time.Duration
		want            time.Duration
	}{
		"the issue's case: 1000 targets, B = limit = 100": {n: 1000, batch: 100, limit: 100, want: 10 * 2 * l},
		"a partial last batch still costs a round":        {n: 1001, batch: 100, limit: 100, want: 11 * 2 * l},
		"the limit binds below the batch size":            {n: 1000, batch: 100, limit: 32, want: 32 * 2 * l},
		"sequential: one round per target":                {n: 100, batch: 1, limit: 1, want: 100 * 2 * l},
		"delays between batches, not after the last":      {n: 1000, batch: 100, limit: 100, delay: time.Second, want: 10*2*l + 9*time.Second},
		"one batch has no delay":                          {n: 50, batch: 100, limit: 100, delay: time.Second, want: 2 * l},
		"no targets":                                      {n: 0, batch: 100, limit: 100, want: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := IdealApply(tc.n, tc.batch, tc.limit, l, l, tc.delay); got != tc.want {
				t.Errorf("IdealApply(%d, %d, %d) = %s, want %s", tc.n, tc.batch, tc.limit, got, tc.want)
			}
		})
	}
}

func TestRefreshFloor(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		n, limit int
		want     time.Duration
	}{
		"5000 targets at 100 at once":  {n: 5000, limit: 100, want: 50 * 50 * time.Millisecond},
		"the default limit of 32":      {n: 5000, limit: 32, want: 157 * 50 * time.Millisecond},
		"fewer targets than the limit": {n: 10, limit: 100, want: 50 * time.Millisecond},
		"no targets":                   {n: 0, limit: 100, want: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := RefreshFloor(tc.n, tc.limit, 50*time.Millisecond); got != tc.want {
				t.Errorf("RefreshFloor(%d, %d) = %s, want %s", tc.n, tc.limit, got, tc.want)
			}
		})
	}
}
