package flags

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

// The OFREP schemas (service/openapi.yaml of open-feature/protocol, 0.3.0)
// as Go structs. Answers are decoded with DisallowUnknownFields, and the
// schema's required properties are checked separately (a missing property
// would otherwise decode as a zero value).

// specSuccess is evaluationSuccess (serverEvaluationSuccess) with a value:
// required key, reason and, for booleanFlag, value.
type specSuccess struct {
	Key      string          `json:"key"`
	Value    json.RawMessage `json:"value"`
	Reason   string          `json:"reason"`
	Variant  string          `json:"variant"`
	Metadata map[string]any  `json:"metadata"`
}

// specFailure is evaluationFailure and flagNotFound: required key and
// errorCode.
type specFailure struct {
	Key          string         `json:"key"`
	ErrorCode    string         `json:"errorCode"`
	ErrorDetails string         `json:"errorDetails"`
	Metadata     map[string]any `json:"metadata"`
}

// specBulkSuccess is bulkEvaluationSuccess: required flags, items
// evaluationSuccess or evaluationFailure.
type specBulkSuccess struct {
	Flags        []json.RawMessage `json:"flags"`
	Metadata     map[string]any    `json:"metadata"`
	EventStreams []json.RawMessage `json:"eventStreams"`
}

// specBulkFailure is bulkEvaluationFailure: required errorCode.
type specBulkFailure struct {
	ErrorCode    string `json:"errorCode"`
	ErrorDetails string `json:"errorDetails"`
}

// specGeneralError is generalErrorResponse.
type specGeneralError struct {
	ErrorDetails string `json:"errorDetails"`
}

var (
	specReasons       = []string{"STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "UNKNOWN"}
	specFailureCodes  = []string{"PARSE_ERROR", "TARGETING_KEY_MISSING", "INVALID_CONTEXT", "GENERAL"}
	specNotFoundCodes = []string{"FLAG_NOT_FOUND"}
)

// decodeSpec decodes body into v strictly and checks that the required
// properties are present.
func decodeSpec(t *testing.T, body []byte, v any, required ...string) {
	t.Helper()
	var props map[string]json.RawMessage
	if err := json.Unmarshal(body, &props); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, body)
	}
	for _, r := range required {
		if _, ok := props[r]; !ok {
			t.Errorf("answer lacks required %q: %s", r, body)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("answer does not match the schema: %v\n%s", err, body)
	}
}

// checkSuccess checks an evaluationSuccess of a boolean flag and returns
// its value.
func checkSuccess(t *testing.T, body []byte) (specSuccess, bool) {
	t.Helper()
	var s specSuccess
	decodeSpec(t, body, &s, "key", "reason", "value")
	if !slices.Contains(specReasons, s.Reason) {
		t.Errorf("reason %q is not one of %v", s.Reason, specReasons)
	}
	var v bool
	if err := json.Unmarshal(s.Value, &v); err != nil {
		t.Errorf("value %s is not a boolean", s.Value)
	}
	for k, m := range s.Metadata {
		switch m.(type) {
		case bool, string, float64:
		default:
			t.Errorf("metadata %q = %v (%T): the schema allows boolean, string or number", k, m, m)
		}
	}
	return s, v
}

func checkFailure(t *testing.T, body []byte, codes []string) specFailure {
	t.Helper()
	var f specFailure
	decodeSpec(t, body, &f, "key", "errorCode")
	if !slices.Contains(codes, f.ErrorCode) {
		t.Errorf("errorCode %q is not one of %v", f.ErrorCode, codes)
	}
	return f
}

type server struct {
	URL   string
	Store *Store
	Dir   string
}

func newServer(t *testing.T, cfg HandlerConfig) server {
	t.Helper()
	dir := t.TempDir()
	s := openStore(t, dir)
	srv := httptest.NewServer(NewHandler(s, cfg)) // 127.0.0.1
	t.Cleanup(srv.Close)
	return server{URL: srv.URL, Store: s, Dir: dir}
}

// do makes one call; headers are name, value pairs, and a pair whose
// name is "" is left out.
func do(t *testing.T, method, url, body string, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

func (s server) put(t *testing.T, f protocol.Flag, headers ...string) {
	t.Helper()
	body, _ := json.Marshal(f)
	if code, _, data := do(t, http.MethodPut, s.URL+"/v1/flags/"+f.Flag, string(body), headers...); code != http.StatusOK {
		t.Fatalf("PUT %s = %d %s", f.Flag, code, data)
	}
}

func evalBody(key string) string {
	b, _ := json.Marshal(map[string]any{"context": map[string]any{"targetingKey": key, "plan": "premium", "n": 3}})
	return string(b)
}

func (s server) evaluate(t *testing.T, flag, key string, headers ...string) (int, []byte) {
	t.Helper()
	code, h, body := do(t, http.MethodPost, s.URL+"/ofrep/v1/evaluate/flags/"+flag, evalBody(key), headers...)
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return code, body
}

// keysAt returns two keys, one in and one out of flag at percentage.
func keysAt(flag string, percentage float64) (in, out string) {
	for i := 0; i < 100000 && (in == "" || out == ""); i++ {
		k := fmt.Sprintf("user-%d", i)
		if rollout.InRollout(flag, k, percentage) {
			in = k
		} else {
			out = k
		}
	}
	return in, out
}

func TestOFREPSingleEvaluation(t *testing.T) {
	t.Parallel()
	s := newServer(t, HandlerConfig{Token: "write-tok"})
	auth := []string{"Authorization", "Bearer write-tok"}
	in, out := keysAt("checkout", 25)

	for _, tt := range []struct {
		state      string
		percentage float64
		key        string
		value      bool
		reason     string
	}{
		{"active", 25, in, true, "SPLIT"},
		{"active", 25, out, false, "SPLIT"},
		{"paused", 25, in, true, "SPLIT"},
		{"paused", 25, out, false, "SPLIT"},
		{"completed", 100, out, true, "SPLIT"},
		{"active", 0, in, false, "SPLIT"},
		{"pending", 0, in, false, "DISABLED"},
		{"aborted", 0, in, false, "DISABLED"},
		// A document set by hand: aborted is off whatever its percentage.
		{"aborted", 100, in, false, "DISABLED"},
	} {
		f := doc("checkout", 1, tt.percentage)
		f.State = tt.state
		s.put(t, f, auth...)
		code, body := s.evaluate(t, "checkout", tt.key)
		if code != http.StatusOK {
			t.Fatalf("%s %v%% %s: status %d %s", tt.state, tt.percentage, tt.key, code, body)
		}
		got, v := checkSuccess(t, body)
		wantVariant := map[bool]string{true: "on", false: "off"}[tt.value]
		if got.Key != "checkout" || v != tt.value || got.Reason != tt.reason || got.Variant != wantVariant {
			t.Errorf("%s %v%% %s: %s, want value %v reason %s variant %s", tt.state, tt.percentage, tt.key, body, tt.value, tt.reason, wantVariant)
		}
		if got.Metadata["state"] != tt.state || got.Metadata["percentage"] != tt.percentage || got.Metadata["stage"] != 1.0 {
			t.Errorf("metadata %v", got.Metadata)
		}
	}

	code, body := s.evaluate(t, "missing", in)
	if code != http.StatusNotFound {
		t.Fatalf("unknown flag: %d %s", code, body)
	}
	if f := checkFailure(t, body, specNotFoundCodes); f.Key != "missing" || f.ErrorDetails == "" {
		t.Errorf("unknown flag: %s", body)
	}
}

// TestOFREPRequestErrors: what a malformed request is answered with, on
// both endpoints, in the documented order.
func TestOFREPRequestErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t, HandlerConfig{})
	s.put(t, doc("checkout", 0, 5))
	for _, tt := range []struct {
		name, body, code string
	}{
		{"empty body", "", "PARSE_ERROR"},
		{"not JSON", "targetingKey=u1", "PARSE_ERROR"},
		{"an array", `[]`, "PARSE_ERROR"},
		{"trailing data", `{"context":{"targetingKey":"u1"}} {}`, "PARSE_ERROR"},
		{"over 1 MiB", `{"context":{"targetingKey":"u1","pad":"` + strings.Repeat("x", 1<<20) + `"}}`, "PARSE_ERROR"},
		{"context not an object", `{"context":"u1"}`, "INVALID_CONTEXT"},
		{"targetingKey not a string", `{"context":{"targetingKey":7}}`, "INVALID_CONTEXT"},
		{"no context", `{}`, "TARGETING_KEY_MISSING"},
		{"null context", `{"context":null}`, "TARGETING_KEY_MISSING"},
		{"no targetingKey", `{"context":{"email":"a@example.com"}}`, "TARGETING_KEY_MISSING"},
		{"null targetingKey", `{"context":{"targetingKey":null}}`, "TARGETING_KEY_MISSING"},
		{"empty targetingKey", `{"context":{"targetingKey":""}}`, "TARGETING_KEY_MISSING"},
	} {
		// The request is checked before the flag: an unknown flag with a
		// bad request is a 400 too.
		for _, flag := range []string{"checkout", "missing"} {
			code, _, body := do(t, http.MethodPost, s.URL+"/ofrep/v1/evaluate/flags/"+flag, tt.body)
			if code != http.StatusBadRequest {
				t.Errorf("%s, flag %s: status %d %s", tt.name, flag, code, body)
				continue
			}
			if f := checkFailure(t, body, specFailureCodes); f.ErrorCode != tt.code || f.Key != flag || f.ErrorDetails == "" {
				t.Errorf("%s, flag %s: %s, want errorCode %s", tt.name, flag, body, tt.code)
			}
		}
		code, _, body := do(t, http.MethodPost, s.URL+"/ofrep/v1/evaluate/flags", tt.body)
		if code != http.StatusBadRequest {
			t.Errorf("%s, bulk: status %d %s", tt.name, code, body)
			continue
		}
		var f specBulkFailure
		decodeSpec(t, body, &f, "errorCode")
		if f.ErrorCode != tt.code {
			t.Errorf("%s, bulk: %s, want errorCode %s", tt.name, body, tt.code)
		}
	}

	for _, tt := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/ofrep/v1/evaluate/flags/checkout", http.StatusMethodNotAllowed},
		{http.MethodPut, "/ofrep/v1/evaluate/flags", http.StatusMethodNotAllowed},
		{http.MethodPost, "/ofrep/v1/evaluate/flags/", http.StatusNotFound},
		{http.MethodPost, "/ofrep/v1/evaluate/flags/a/b", http.StatusNotFound},
		{http.MethodPost, "/ofrep/v2/evaluate/flags", http.StatusNotFound},
	} {
		code, h, body := do(t, tt.method, s.URL+tt.path, evalBody("u1"))
		if code != tt.code {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, code, tt.code)
		}
		var g specGeneralError
		decodeSpec(t, body, &g, "errorDetails")
		if tt.code == http.StatusMethodNotAllowed && h.Get("Allow") != "POST" {
			t.Errorf("%s %s: Allow %q", tt.method, tt.path, h.Get("Allow"))
		}
	}
}

func TestOFREPBulkEvaluation(t *testing.T) {
	t.Parallel()
	s := newServer(t, HandlerConfig{})
	bulk := func(key string, headers ...string) (int, http.Header, []byte) {
		t.Helper()
		return do(t, http.MethodPost, s.URL+"/ofrep/v1/evaluate/flags", evalBody(key), headers...)
	}

	code, h, body := bulk("u1")
	var empty specBulkSuccess
	if code != http.StatusOK {
		t.Fatalf("bulk of no flags: %d %s", code, body)
	}
	decodeSpec(t, body, &empty, "flags")
	if empty.Flags == nil || len(empty.Flags) != 0 || h.Get("ETag") == "" {
		t.Errorf("bulk of no flags: %s, ETag %q", body, h.Get("ETag"))
	}

	aborted := doc("b-aborted", 2, 0)
	aborted.State = "aborted"
	s.put(t, doc("c-active", 1, 25))
	s.put(t, aborted)
	s.put(t, doc("a-full", 3, 100))
	code, h, body = bulk("u1")
	if code != http.StatusOK {
		t.Fatalf("bulk: %d %s", code, body)
	}
	var got specBulkSuccess
	decodeSpec(t, body, &got, "flags")
	var keys []string
	for _, item := range got.Flags {
		e, v := checkSuccess(t, item)
		keys = append(keys, e.Key)
		want := Evaluate(map[string]protocol.Flag{"a-full": doc("a-full", 3, 100), "b-aborted": aborted, "c-active": doc("c-active", 1, 25)}[e.Key], "u1")
		if v != want.Value || e.Reason != want.Reason || e.Variant != want.Variant {
			t.Errorf("bulk item %s, want %+v", item, want)
		}
	}
	if !slices.Equal(keys, []string{"a-full", "b-aborted", "c-active"}) {
		t.Errorf("bulk keys %v, want every flag by name", keys)
	}

	// ETag: 304 while nothing changed, 200 with a new ETag after a change.
	etag := h.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
		t.Errorf("ETag %q is not a quoted entity tag", etag)
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		code, h2, body := bulk("u1", "If-None-Match", inm)
		if code != http.StatusNotModified || len(body) != 0 || h2.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d %q ETag %q, want 304 without a body", inm, code, body, h2.Get("ETag"))
		}
	}
	if code, _, _ := bulk("u1", "If-None-Match", `"other"`); code != http.StatusOK {
		t.Errorf("If-None-Match of another ETag: %d, want 200", code)
	}
	s.put(t, doc("c-active", 2, 50))
	code, h, _ = bulk("u1", "If-None-Match", etag)
	if code != http.StatusOK || h.Get("ETag") == etag {
		t.Errorf("after a change: %d ETag %q (was %q), want 200 and a new ETag", code, h.Get("ETag"), etag)
	}
}

// TestOFREPAuth: OFREP is open unless an OFREP token is set, whatever the
// protocol v1 token; the two tokens are not interchangeable.
func TestOFREPAuth(t *testing.T) {
	t.Parallel()
	open := newServer(t, HandlerConfig{Token: "write-tok"})
	if code, _, _ := do(t, http.MethodGet, open.URL+"/v1/flags/x", ""); code != http.StatusUnauthorized {
		t.Errorf("protocol v1 without its token: %d, want 401", code)
	}
	open.put(t, doc("x", 0, 5), "Authorization", "Bearer write-tok")
	if code, body := open.evaluate(t, "x", "u1"); code != http.StatusOK {
		t.Errorf("OFREP without a token configured: %d %s", code, body)
	}

	closed := newServer(t, HandlerConfig{Token: "write-tok", OFREPToken: "read-tok"})
	closed.put(t, doc("x", 0, 5), "Authorization", "Bearer write-tok")
	for _, tt := range []struct {
		headers []string
		code    int
	}{
		{nil, http.StatusUnauthorized},
		{[]string{"Authorization", "Bearer write-tok"}, http.StatusUnauthorized},
		{[]string{"Authorization", "Basic read-tok"}, http.StatusUnauthorized},
		{[]string{"X-API-Key", "wrong"}, http.StatusUnauthorized},
		{[]string{"Authorization", "Bearer read-tok"}, http.StatusOK},
		{[]string{"Authorization", "bearer read-tok"}, http.StatusOK},
		{[]string{"X-API-Key", "read-tok"}, http.StatusOK},
	} {
		code, body := closed.evaluate(t, "x", "u1", tt.headers...)
		if code != tt.code {
			t.Errorf("OFREP with %v: %d %s, want %d", tt.headers, code, body, tt.code)
		}
		if code == http.StatusUnauthorized {
			var g specGeneralError
			decodeSpec(t, body, &g, "errorDetails")
		}
	}
	if code, _, _ := do(t, http.MethodGet, closed.URL+"/v1/flags/x", "", "Authorization", "Bearer read-tok"); code != http.StatusUnauthorized {
		t.Errorf("protocol v1 with the OFREP token: %d, want 401", code)
	}
}

// TestOFREPAgreesWithInRollout: over 10 000 keys and several percentages,
// the service's answer is rollout.InRollout's, as the rollout_bucket and
// in_rollout functions compute it in Terraform.
func TestOFREPAgreesWithInRollout(t *testing.T) {
	t.Parallel()
	s := newServer(t, HandlerConfig{})
	percentages := map[string]float64{"p0": 0, "p1": 1, "p25": 25, "p50": 50, "p99.99": 99.99, "p100": 100}
	for name, p := range percentages {
		s.put(t, doc(name, 0, p))
	}
	keys := 10000
	if testing.Short() {
		keys = 1000
	}
	in := map[string]int{}
	client := &http.Client{}
	for i := range keys {
		key := fmt.Sprintf("user-%d", i)
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/ofrep/v1/evaluate/flags", strings.NewReader(evalBody(key)))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var bulk struct {
			Flags []Evaluation `json:"flags"`
		}
		err = json.NewDecoder(resp.Body).Decode(&bulk)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(bulk.Flags) != len(percentages) {
			t.Fatalf("bulk for %s: %d %+v %v", key, resp.StatusCode, bulk, err)
		}
		for _, e := range bulk.Flags {
			if want := rollout.InRollout(e.Key, key, percentages[e.Key]); e.Value != want || e.Reason != ReasonSplit {
				t.Fatalf("%s for %s: %+v, InRollout says %v", e.Key, key, e, want)
			}
			if e.Value {
				in[e.Key]++
			}
		}
	}
	// Sanity of the sample: nobody at 0 %, everybody at 100 %, about p %
	// in between.
	for name, p := range percentages {
		share := 100 * float64(in[name]) / float64(keys)
		if share < p-3 || share > p+3 || (p == 0 && in[name] != 0) || (p == 100 && in[name] != keys) {
			t.Errorf("%s: %d of %d keys in (%.2f%%)", name, in[name], keys, share)
		}
	}
}

// TestOFREPAdvance: each state codomyrmex_feature_rollout publishes is what
// the next evaluation answers, and as the percentage rises keys are only
// ever added.
func TestOFREPAdvance(t *testing.T) {
	t.Parallel()
	s := newServer(t, HandlerConfig{})
	const keys = 500
	steps := []struct {
		state      string
		stage      int
		percentage float64
	}{
		{"pending", 0, 0}, {"active", 0, 5}, {"active", 1, 25}, {"paused", 1, 25},
		{"active", 2, 50}, {"active", 3, 100}, {"completed", 3, 100}, {"aborted", 3, 0},
	}
	prev := map[string]bool{}
	prevPercentage := 0.0
	for _, st := range steps {
		f := doc("new-checkout", st.stage, st.percentage)
		f.State = st.state
		s.put(t, f)
		now := map[string]bool{}
		for i := range keys {
			key := fmt.Sprintf("k%d", i)
			code, body := s.evaluate(t, "new-checkout", key)
			var e Evaluation
			if err := json.Unmarshal(body, &e); code != http.StatusOK || err != nil {
				t.Fatalf("%s %v%%: %d %s", st.state, st.percentage, code, body)
			}
			disabled := st.state == "pending" || st.state == "aborted"
			if want := !disabled && rollout.InRollout("new-checkout", key, st.percentage); e.Value != want {
				t.Fatalf("%s at %v%%, %s: %+v, want %v", st.state, st.percentage, key, e, want)
			}
			if e.Value {
				now[key] = true
			}
		}
		if st.percentage >= prevPercentage {
			for k := range prev {
				if !now[k] {
					t.Errorf("%s at %v%%: %s was in at %v%% and is out now", st.state, st.percentage, k, prevPercentage)
				}
			}
		}
		t.Logf("%-9s %5v%%: %d of %d keys in", st.state, st.percentage, len(now), keys)
		prev, prevPercentage = now, st.percentage
	}
	if len(prev) != 0 {
		t.Errorf("aborted: %d keys still in", len(prev))
	}
}

// TestHandlerRejectsBadDocuments: a bad PUT is answered 400 (413 over
// 1 MiB) and stores nothing: no flag, not even a flags.json.
func TestHandlerRejectsBadDocuments(t *testing.T) {
	t.Parallel()
	s := newServer(t, HandlerConfig{})
	for _, tt := range []struct {
		name, path, body string
		code             int
	}{
		{"not JSON", "x", `state=active`, 400},
		{"two objects", "x", `{"state":"active"} {}`, 400},
		{"unknown state", "x", `{"state":"on","percentage":5}`, 400},
		{"percentage over 100", "x", `{"state":"active","percentage":100.5}`, 400},
		{"negative percentage", "x", `{"state":"active","percentage":-5}`, 400},
		{"percentage not a number", "x", `{"state":"active","percentage":"5"}`, 400},
		{"negative stage", "x", `{"state":"active","stage":-1,"percentage":5}`, 400},
		{"stage over 100", "x", `{"state":"active","percentage":5,"stages":[5,250]}`, 400},
		{"bad updated_at", "x", `{"state":"active","percentage":5,"updated_at":"now"}`, 400},
		{"another flag's document", "x", `{"flag":"y","state":"active","percentage":5}`, 400},
		{"space in the name", "new%20checkout", `{"state":"active","percentage":5}`, 400},
		{"slash in the name", "a%2Fb", `{"state":"active","percentage":5}`, 400},
		{"name too long", strings.Repeat("n", 129), `{"state":"active","percentage":5}`, 400},
		{"over 1 MiB", "x", `{"state":"active","percentage":5,"pad":"` + strings.Repeat("x", 1<<20) + `"}`, 413},
	} {
		code, _, body := do(t, http.MethodPut, s.URL+"/v1/flags/"+tt.path, tt.body)
		var e struct {
			Error string `json:"error"`
		}
		if code != tt.code || json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%s: %d %s, want %d with an error", tt.name, code, body, tt.code)
		}
	}
	if list, err := s.Store.List(t.Context()); err != nil || len(list) != 0 {
		t.Errorf("stored: %+v, %v", list, err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, FileName)); !os.IsNotExist(err) {
		t.Errorf("flags.json written: %v", err)
	}
	if code, _, _ := do(t, http.MethodGet, s.URL+"/v1/flags/x", ""); code != http.StatusNotFound {
		t.Errorf("GET x = %d, want 404", code)
	}
}

// TestOFREPNormalisesKeysToNFC: an application that sends the decomposed
// "Jose\u0301" as its targetingKey gets the answer in_rollout gives for
// "José" (Terraform normalises every string to NFC). The percentage lies
// between the buckets of the two byte sequences, so hashing the bytes as
// sent would give the other answer.
func TestOFREPNormalisesKeysToNFC(t *testing.T) {
	t.Parallel()
	s := newServer(t, HandlerConfig{})
	const flag, composed, decomposed = "new-checkout", "Jos\u00e9", "Jose\u0301"
	rawBucket := func(key string) float64 {
		sum := sha256.Sum256([]byte(flag + ":" + key))
		return float64(binary.BigEndian.Uint64(sum[:8])%10000) / 100
	}
	pct := max(rawBucket(composed), rawBucket(decomposed))
	if rawBucket(composed) == rawBucket(decomposed) {
		t.Fatal("the two forms share a bucket by chance; pick another key")
	}
	s.put(t, doc(flag, 1, pct))
	code, body := s.evaluate(t, flag, decomposed)
	if code != http.StatusOK {
		t.Fatalf("status %d %s", code, body)
	}
	_, got := checkSuccess(t, body)
	if want := rollout.InRollout(flag, composed, pct); got != want {
		t.Errorf("OFREP for %+q at %v %% = %v, in_rollout for %+q = %v", decomposed, pct, got, composed, want)
	}
}
