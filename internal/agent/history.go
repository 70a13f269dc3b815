package agent

import (
	"context"
	"slices"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// HistoryLength is how many calls serve and router keep in their state
// file and answer at GET /v1/history.
const HistoryLength = 100

// historyErrorBytes bounds an entry's error (the output tail is not kept).
const historyErrorBytes = 512

// CallRecord is one call in the history: who asked for what, when, and
// how it ended. Calls refused for want of a token are not recorded (a
// stranger could otherwise push the real calls out).
type CallRecord struct {
	Time   time.Time `json:"time"`
	Caller string    `json:"caller"`
	// Action is "deploy", "switch" or "weights".
	Action          string   `json:"action"`
	Deployment      string   `json:"deployment"`
	Version         string   `json:"version"`
	PreviousVersion string   `json:"previous_version,omitempty"`
	TargetID        string   `json:"target_id,omitempty"`
	Slot            string   `json:"slot,omitempty"`
	Percentage      *float64 `json:"percentage,omitempty"`
	// Result is ResultSucceeded, ResultFailed or ResultRefused.
	Result string `json:"result"`
	// Unchanged: the version already ran, nothing was run.
	Unchanged       bool    `json:"unchanged,omitempty"`
	DurationSeconds float64 `json:"duration_seconds"`
	Error           string  `json:"error,omitempty"`
}

// History is the answer of GET /v1/history: the last calls, oldest first.
type History struct {
	Calls []CallRecord `json:"calls"`
}

// newCallRecord starts the record of a call served under ctx.
func newCallRecord(ctx context.Context, action, deployment, version string, start time.Time, err error) CallRecord {
	rec := CallRecord{
		Time: start.UTC(), Caller: protocol.CallerOf(ctx), Action: action, Deployment: deployment, Version: version,
		Result: resultOf(err), DurationSeconds: time.Since(start).Round(time.Millisecond).Seconds(),
	}
	if err != nil {
		msg := firstLine(err.Error())
		if len(msg) > historyErrorBytes {
			msg = msg[:historyErrorBytes] + "…"
		}
		rec.Error = msg
	}
	return rec
}

// appendHistory adds rec and keeps the last HistoryLength calls.
func appendHistory(h []CallRecord, rec CallRecord) []CallRecord {
	h = append(h, rec)
	if len(h) > HistoryLength {
		h = slices.Clone(h[len(h)-HistoryLength:])
	}
	return h
}
