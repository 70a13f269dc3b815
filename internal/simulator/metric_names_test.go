package simulator

import (
	"strings"
	"testing"
)

// TestRequestsSeries: the series `simulate -h` names is the counter's name
// and labels.
func TestRequestsSeries(t *testing.T) {
	if want := RequestsMetric + "{" + strings.Join(RequestsLabels, ",") + "}"; RequestsSeries != want {
		t.Errorf("RequestsSeries = %q, want %q", RequestsSeries, want)
	}
}
