package protocol

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// Protocol paths, relative to a target address, router URL or flag endpoint.
const (
	DefaultHealthPath = "/v1/health"
	deployPath        = "/v1/deploy"
	switchPath        = "/v1/switch"
	weightsPath       = "/v1/weights"
	routerStatePath   = "/v1/state"
	flagsPath         = "/v1/flags/"
)

// MaxBodyBytes bounds every request and response body (1 MiB).
const MaxBodyBytes = 1 << 20

// Health statuses.
const (
	HealthOK    = "ok"
	HealthError = "error"
)

// DeployRequest is the body of PUT {address}/v1/deploy.
type DeployRequest struct {
	Deployment string `json:"deployment"`
	Version    string `json:"version"`
	// PreviousVersion is null when the provider does not know it.
	PreviousVersion *string           `json:"previous_version"`
	TargetID        string            `json:"target_id"`
	Strategy        string            `json:"strategy"`
	Metadata        map[string]string `json:"metadata"`
}

// Health is the body of a health answer. Status is "ok" when healthy.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// SwitchRequest is the body of PUT {router_url}/v1/switch.
type SwitchRequest struct {
	Deployment string `json:"deployment"`
	Slot       string `json:"slot"`
	Version    string `json:"version"`
}

// WeightsRequest is the body of PUT {router_url}/v1/weights.
type WeightsRequest struct {
	Deployment string  `json:"deployment"`
	Version    string  `json:"version"`
	Percentage float64 `json:"percentage"`
}

// Flag is the flag document of PUT/GET {flag_endpoint}/v1/flags/{name}.
type Flag struct {
	Flag       string    `json:"flag"`
	State      string    `json:"state"`
	Stage      int       `json:"stage"`
	Percentage float64   `json:"percentage"`
	Stages     []float64 `json:"stages"`
	// UpdatedAt is RFC 3339.
	UpdatedAt string `json:"updated_at"`
}

// ErrNotFound is returned (wrapped) by ReadFlag when the flag service
// answers 404.
var ErrNotFound = errors.New("flag not found")

// UnhealthyError is a health call the target answered with a status other
// than "ok".
type UnhealthyError struct {
	URL    string
	Health Health
}

func (e *UnhealthyError) Error() string {
	return fmt.Sprintf("GET %s: target reports status %q (version %q), want %q", e.URL, e.Health.Status, e.Health.Version, HealthOK)
}

// StatusError is a final non-2xx answer. Its message carries the method,
// URL, status and a short excerpt of the body, never any header.
type StatusError struct {
	Method     string
	URL        string
	StatusCode int
	// Body is a short, single-line excerpt of the response body.
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Method, e.URL, e.answer())
}

// answer describes the status and body without the request line, for
// messages that already name the request.
func (e *StatusError) answer() string {
	s := fmt.Sprintf("HTTP %d", e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		s += " " + text
	}
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// maxExcerpt is how much of an error body ends up in a message.
const maxExcerpt = 256

// excerpt turns a body into one short printable line.
func excerpt(body []byte) string {
	s := strings.ToValidUTF8(string(body[:min(len(body), 4*maxExcerpt)]), "?")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if r := []rune(s); len(r) > maxExcerpt {
		s = string(r[:maxExcerpt]) + "…"
	}
	return s
}

// RouterState is the answer of GET {router_url}/v1/state: what a router
// last applied to each deployment. It is not part of protocol v1: routers
// need not serve it; `codomyrmex-agent router` and the simulated router do.
type RouterState struct {
	Deployments map[string]RouterRoute `json:"deployments"`
}

// RouterRoute is what a router last applied to one deployment: a switch
// (Slot and Version) or weights (Weights: the version of the last weights
// call and its share of the traffic, in percent).
type RouterRoute struct {
	Slot      string             `json:"slot,omitempty"`
	Version   string             `json:"version,omitempty"`
	Weights   map[string]float64 `json:"weights,omitempty"`
	UpdatedAt string             `json:"updated_at,omitempty"`
}
