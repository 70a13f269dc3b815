package flags

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// TestServiceMetrics: the writes that reach the store are counted (the
// refused ones, a missing token and a bad document here, are the server's
// to count with RefusedWrite), evaluations by reason (each flag of a bulk
// request), and every stored flag's percentage is shown.
func TestServiceMetrics(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	reg := prometheus.NewPedanticRegistry()
	srv := httptest.NewServer(NewService(s, ServiceConfig{Tokens: protocol.NewTokens("w"), Metrics: NewMetrics(reg, s)}))
	defer srv.Close()
	send := func(method, path, token, body string) {
		t.Helper()
		header := "Authorization"
		if token == "" {
			header = ""
		}
		do(t, method, srv.URL+path, body, header, "Bearer "+token)
	}
	send("PUT", "/v1/flags/a", "w", `{"flag":"a","state":"active","stage":1,"percentage":25}`)
	send("PUT", "/v1/flags/b", "w", `{"flag":"b","state":"pending","stage":0,"percentage":5}`)
	send("PUT", "/v1/flags/c", "w", `{"flag":"c","state":"active","stage":0,"percentage":5}`)
	send("DELETE", "/v1/flags/c", "w", "")
	send("PUT", "/v1/flags/a", "", `{"flag":"a","state":"active","stage":2,"percentage":50}`)
	send("PUT", "/v1/flags/a", "w", `{"flag":"a","state":"on","stage":2,"percentage":50}`)
	send("GET", "/v1/flags/a", "w", "")
	send("POST", "/ofrep/v1/evaluate/flags", "", `{"context":{"targetingKey":"user-1"}}`)
	send("POST", "/ofrep/v1/evaluate/flags/a", "", `{"context":{"targetingKey":"user-1"}}`)
	send("POST", "/ofrep/v1/evaluate/flags/zz", "", `{"context":{"targetingKey":"user-1"}}`)
	send("POST", "/ofrep/v1/evaluate/flags/a", "", `{"context":{}}`)
	want := `
# HELP codomyrmex_flag_percentage Percentage of a stored flag: the share of targeting keys its rollout exposes.
# TYPE codomyrmex_flag_percentage gauge
codomyrmex_flag_percentage{flag="a"} 25
codomyrmex_flag_percentage{flag="b"} 5
# HELP codomyrmex_flags_writes_total Flag writes (PUT and DELETE /v1/flags/NAME) answered, by result: succeeded, failed, refused (nothing stored).
# TYPE codomyrmex_flags_writes_total counter
codomyrmex_flags_writes_total{result="failed"} 0
codomyrmex_flags_writes_total{result="refused"} 0
codomyrmex_flags_writes_total{result="succeeded"} 4
# HELP codomyrmex_ofrep_evaluations_total OFREP flag evaluations, by reason: SPLIT, DISABLED, or ERROR when no value was given (a bulk request counts each flag).
# TYPE codomyrmex_ofrep_evaluations_total counter
codomyrmex_ofrep_evaluations_total{reason="DISABLED"} 1
codomyrmex_ofrep_evaluations_total{reason="ERROR"} 2
codomyrmex_ofrep_evaluations_total{reason="SPLIT"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
