package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The resource examples are only validated by make test (validate never
// reads a query); this plans each one that measures with Prometheus
// against a real Prometheus, whose parser the plan asks, so a query
// written in an example is one Prometheus accepts.
func TestAccExamples_prometheusQueriesParse(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../examples/resources/*/*.tf")
	if err != nil {
		t.Fatal(err)
	}
	address := regexp.MustCompile(`address\s*=\s*"http://[^"]*:9090"`)
	f := newMetricsFleet(t, 1, "1.0.0", nil)
	checked := 0
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), "prometheus = {") {
			continue
		}
		checked++
		t.Run(filepath.Base(file), func(t *testing.T) {
			w := newCLIWorkdir(t)
			w.writeConfig(address.ReplaceAllString(string(body), `address = "`+f.prom.URL+`"`))
			w.mustRun(0, nil, "plan", "-input=false", "-no-color")
		})
	}
	if checked == 0 {
		t.Fatal("no resource example measures with Prometheus: nothing was checked")
	}
}
