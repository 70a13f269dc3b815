package status

import (
	"context"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
)

// Watch checks, draws the report, and again every interval until ctx
// ends (Ctrl-C); it returns the last report drawn, or ctx's error when
// none was. A check that cannot
// run at all (its input is unreadable) ends the watch with its error;
// calls that fail are in the report, and the watch goes on.
func Watch(ctx context.Context, clk clock.Clock, interval time.Duration,
	check func(context.Context) (Report, error), draw func(Report, time.Time) error,
) (Report, error) {
	var last Report
	for drawn := false; ; drawn = true {
		rep, err := check(ctx)
		if ctx.Err() != nil {
			if drawn {
				return last, nil // interrupted mid-check: the last report drawn stands
			}
			return last, ctx.Err()
		}
		if err != nil {
			return last, err
		}
		last = rep
		if err := draw(rep, clk.Now()); err != nil {
			return last, err
		}
		if clk.Sleep(ctx, interval) != nil {
			return last, nil //nolint:nilerr // Ctrl-C ends a watch: its last report stands
		}
	}
}
