package flags

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

// OFREP paths (OpenFeature Remote Evaluation Protocol, service/openapi.yaml
// of github.com/open-feature/protocol, version 0.3.0).
const (
	OFREPBulkPath   = "/ofrep/v1/evaluate/flags"
	OFREPSinglePath = OFREPBulkPath + "/{key}"
)

// OFREP reasons, variants and error codes this service answers with.
const (
	// ReasonSplit: the value comes from the key's bucket, a pseudorandom
	// but deterministic assignment (OpenFeature's "SPLIT").
	ReasonSplit = "SPLIT"
	// ReasonDisabled: the rollout is pending or aborted, so the flag is off
	// for every key.
	ReasonDisabled = "DISABLED"

	VariantOn  = "on"
	VariantOff = "off"

	ErrorFlagNotFound        = "FLAG_NOT_FOUND"
	ErrorTargetingKeyMissing = "TARGETING_KEY_MISSING"
	ErrorInvalidContext      = "INVALID_CONTEXT"
	ErrorParse               = "PARSE_ERROR"
)

// Evaluation is OFREP's evaluationSuccess for a boolean flag.
type Evaluation struct {
	Key     string `json:"key"`
	Value   bool   `json:"value"`
	Reason  string `json:"reason"`
	Variant string `json:"variant"`
	// Metadata carries the rollout's state, stage and percentage.
	Metadata map[string]any `json:"metadata,omitempty"`
}

// Evaluate decides flag f for targetingKey: a pending or aborted rollout is
// off for everybody (reason DISABLED); otherwise (active, paused,
// completed) the key is in when rollout.InRollout(f.Flag, targetingKey,
// f.Percentage), the bucketing of the rollout_bucket and in_rollout
// functions (reason SPLIT). Variants are "on" and "off". The key is used
// as sent: rollout.InRollout normalises it to Unicode NFC, as Terraform
// normalises every string, so "Jose\u0301" is answered as "José".
func Evaluate(f protocol.Flag, targetingKey string) Evaluation {
	e := Evaluation{
		Key: f.Flag, Reason: ReasonSplit, Variant: VariantOff,
		Metadata: map[string]any{"state": f.State, "stage": f.Stage, "percentage": f.Percentage},
	}
	switch rollout.State(f.State) {
	case rollout.StatePending, rollout.StateAborted:
		e.Reason = ReasonDisabled
		return e
	}
	if rollout.InRollout(f.Flag, targetingKey, f.Percentage) {
		e.Value, e.Variant = true, VariantOn
	}
	return e
}

// Source is what OFREP evaluates: the flags of a flag service.
type Source interface {
	// Get returns false when there is no flag of that name.
	Get(ctx context.Context, name string) (protocol.Flag, bool, error)
	// List returns every flag.
	List(ctx context.Context) ([]protocol.Flag, error)
}

// evaluationFailure is OFREP's evaluationFailure and flagNotFound (key
// set) and bulkEvaluationFailure (no key).
type evaluationFailure struct {
	Key          string `json:"key,omitempty"`
	ErrorCode    string `json:"errorCode"`
	ErrorDetails string `json:"errorDetails,omitempty"`
}

// generalError is OFREP's generalErrorResponse; this service also answers
// 401, 404 for an unknown path and 405 with it.
type generalError struct {
	ErrorDetails string `json:"errorDetails"`
}

// bulkEvaluation is OFREP's bulkEvaluationSuccess.
type bulkEvaluation struct {
	Flags []Evaluation `json:"flags"`
}

// NewOFREPHandler serves OFREP's two core endpoints for the flags of src:
//
//	POST /ofrep/v1/evaluate/flags/{key}   one flag
//	POST /ofrep/v1/evaluate/flags         every flag, with an ETag
//
// Both take {"context": {"targetingKey": "…", …}}; the targeting key is what
// is bucketed, other context properties are ignored. Answers, in order:
// an unknown path is 404; a missing or wrong token (when token is not
// empty: "Authorization: Bearer <token>" or "X-API-Key: <token>") 401; a
// method other than POST 405; a body that is not a JSON object (or over
// 1 MiB) 400 PARSE_ERROR; a context that is not an object, or a
// targetingKey that is not a string, 400 INVALID_CONTEXT; no targetingKey
// (or an empty one) 400 TARGETING_KEY_MISSING; a flag that does not exist
// 404 FLAG_NOT_FOUND; then 200 with the evaluation (see Evaluate). A bulk
// request whose If-None-Match holds the current ETag is answered 304.
func NewOFREPHandler(src Source, token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(http.MethodPost+" "+OFREPSinglePath, func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		targetingKey, fail := readContext(w, r)
		if fail != nil {
			countEvaluation(src, ReasonError)
			fail.Key = key
			protocol.WriteJSON(w, http.StatusBadRequest, fail)
			return
		}
		f, ok, err := src.Get(r.Context(), key)
		switch {
		case err != nil:
			countEvaluation(src, ReasonError)
			protocol.WriteJSON(w, http.StatusInternalServerError, generalError{fmt.Sprintf("reading flag %q: %v", key, err)})
		case !ok:
			countEvaluation(src, ReasonError)
			protocol.WriteJSON(w, http.StatusNotFound, evaluationFailure{Key: key, ErrorCode: ErrorFlagNotFound, ErrorDetails: fmt.Sprintf("flag %q was not found", key)})
		default:
			e := Evaluate(f, targetingKey)
			countEvaluation(src, e.Reason)
			protocol.WriteJSON(w, http.StatusOK, e)
		}
	})
	mux.HandleFunc(http.MethodPost+" "+OFREPBulkPath, func(w http.ResponseWriter, r *http.Request) {
		targetingKey, fail := readContext(w, r)
		if fail != nil {
			countEvaluation(src, ReasonError)
			protocol.WriteJSON(w, http.StatusBadRequest, fail)
			return
		}
		flags, err := src.List(r.Context())
		if err != nil {
			countEvaluation(src, ReasonError)
			protocol.WriteJSON(w, http.StatusInternalServerError, generalError{"listing the flags: " + err.Error()})
			return
		}
		bulk := bulkEvaluation{Flags: make([]Evaluation, 0, len(flags))}
		for _, f := range flags {
			e := Evaluate(f, targetingKey)
			countEvaluation(src, e.Reason)
			bulk.Flags = append(bulk.Flags, e)
		}
		body, err := json.Marshal(bulk)
		if err != nil {
			protocol.WriteJSON(w, http.StatusInternalServerError, generalError{"encoding the evaluations: " + err.Error()})
			return
		}
		// The ETag covers the answer itself: it changes when a flag changes
		// and when the context does.
		sum := sha256.Sum256(body)
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		w.Header().Set("ETag", etag)
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(append(body, '\n'))
	})
	for _, p := range []string{OFREPSinglePath, OFREPBulkPath} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", http.MethodPost)
			protocol.WriteJSON(w, http.StatusMethodNotAllowed, generalError{fmt.Sprintf("method %s not allowed, use POST", r.Method)})
		})
	}
	const unknown = "/"
	mux.HandleFunc(unknown, func(w http.ResponseWriter, r *http.Request) {
		protocol.WriteJSON(w, http.StatusNotFound, generalError{fmt.Sprintf("no OFREP endpoint at %q", r.URL.Path)})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != unknown && !ofrepAuthorized(r, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="codomyrmex-ofrep"`)
			protocol.WriteJSON(w, http.StatusUnauthorized, generalError{"missing or invalid bearer token or X-API-Key"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// readContext reads an evaluation request and returns its targeting key,
// or the failure to answer with 400.
func readContext(w http.ResponseWriter, r *http.Request) (string, *evaluationFailure) {
	var req struct {
		Context json.RawMessage `json:"context"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, protocol.MaxBodyBytes))
	err := dec.Decode(&req)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", &evaluationFailure{ErrorCode: ErrorParse, ErrorDetails: "request body exceeds 1 MiB"}
		}
		return "", &evaluationFailure{ErrorCode: ErrorParse, ErrorDetails: `request body must be a JSON object {"context": {"targetingKey": …}}: ` + err.Error()}
	}
	var ctx map[string]json.RawMessage
	if len(req.Context) > 0 {
		if err := json.Unmarshal(req.Context, &ctx); err != nil {
			return "", &evaluationFailure{ErrorCode: ErrorInvalidContext, ErrorDetails: "context must be a JSON object"}
		}
	}
	raw, ok := ctx["targetingKey"]
	if !ok || string(raw) == "null" {
		return "", &evaluationFailure{ErrorCode: ErrorTargetingKeyMissing, ErrorDetails: "context has no targetingKey: it is the key (user, tenant, …) that the rollout buckets"}
	}
	var key string
	if err := json.Unmarshal(raw, &key); err != nil {
		return "", &evaluationFailure{ErrorCode: ErrorInvalidContext, ErrorDetails: "targetingKey must be a string"}
	}
	if key == "" {
		return "", &evaluationFailure{ErrorCode: ErrorTargetingKeyMissing, ErrorDetails: "targetingKey is empty"}
	}
	return key, nil
}

// etagMatches implements If-None-Match's weak comparison for one ETag.
func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == "*" || candidate == etag {
			return true
		}
	}
	return false
}

// ofrepAuthorized accepts either of OFREP's authentication schemes.
func ofrepAuthorized(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	if key := r.Header.Get("X-API-Key"); key != "" {
		return subtle.ConstantTimeCompare([]byte(key), []byte(token)) == 1
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	// Token, when set, is the bearer token every protocol v1 call
	// (PUT/GET/DELETE /v1/flags/{name}) must carry.
	Token string
	// OFREPToken, when set, is the token OFREP callers must present
	// (bearer or X-API-Key); empty leaves evaluations open.
	OFREPToken string
}

// NewHandler serves protocol v1's flag calls at /v1/flags/{name} and OFREP
// at /ofrep/v1/, both from s.
func NewHandler(s *Store, cfg HandlerConfig) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ofrep/", NewOFREPHandler(s, cfg.OFREPToken))
	mux.Handle("/", protocol.NewFlagHandler(s, cfg.Token))
	return mux
}
