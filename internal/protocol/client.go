package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// Defaults of ClientConfig's zero values.
const (
	DefaultUserAgent      = "terraform-provider-codomyrmex/dev"
	DefaultRequestTimeout = 10 * time.Second
	DefaultRetryWaitMin   = 200 * time.Millisecond
	DefaultRetryWaitMax   = 5 * time.Second
)

// DefaultMaxIdleConnsPerHost is well above the provider's default
// concurrency (32) so that a fleet behind one load balancer reuses its
// connections.
const DefaultMaxIdleConnsPerHost = 64

// keepIdleConnections is the transport without its CloseIdleConnections:
// go-retryablehttp calls that whenever a call gives up, and one target
// that keeps answering 503 would then close the idle connections of the
// whole fleet, router and flag service on every health poll.
type keepIdleConnections struct{ http.RoundTripper }

// ClientConfig configures a Client. Zero values take the documented defaults.
type ClientConfig struct {
	// Token, when set, is sent as "Authorization: Bearer <token>".
	Token string
	// Headers are added to every request. They cannot replace
	// Content-Type, User-Agent or the token's Authorization.
	Headers map[string]string
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string

	// RequestTimeout bounds each attempt, body included (default 10s).
	RequestTimeout time.Duration
	// Retries is how many times a transient failure is retried (connection
	// errors, timeouts, 429, 502, 503, 504). Zero means no retry.
	Retries int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff
	// (defaults 200ms and 5s). A Retry-After answer is honoured up to
	// RetryWaitMax.
	RetryWaitMin, RetryWaitMax time.Duration

	// CACertPEM, when set, is trusted in addition to the system roots.
	CACertPEM string
	// ClientCertPEM and ClientKeyPEM, set together, enable mutual TLS.
	ClientCertPEM, ClientKeyPEM string
	InsecureSkipVerify          bool

	// MaxIdleConnsPerHost is how many connections to one host:port stay
	// open between calls (default DefaultMaxIdleConnsPerHost). Set it to
	// the most calls in flight at once, or every batch above it dials again.
	MaxIdleConnsPerHost int

	// Log, when set, is called for every attempt, answer and failed
	// attempt with the method, URL, attempt number and status or error.
	// Headers, and therefore the token, are never passed.
	Log func(ctx context.Context, msg string, fields map[string]any)
}

// Client makes protocol v1 calls with retries. It is safe for concurrent
// use.
type Client struct {
	http      *retryablehttp.Client
	token     string
	timeout   time.Duration
	headers   map[string]string
	userAgent string
	log       func(ctx context.Context, msg string, fields map[string]any)
	// agents are the AgentHeader values met, each logged once.
	agents sync.Map
}

// NewClient validates cfg and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Retries < 0 {
		return nil, fmt.Errorf("retries must be 0 or more, got %d", cfg.Retries)
	}
	if cfg.RequestTimeout < 0 || cfg.RetryWaitMin < 0 || cfg.RetryWaitMax < 0 {
		return nil, errors.New("request timeout and retry waits must not be negative")
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = DefaultRetryWaitMin
	}
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = max(DefaultRetryWaitMax, cfg.RetryWaitMin)
	}
	if cfg.RetryWaitMin > cfg.RetryWaitMax {
		return nil, fmt.Errorf("retry wait min (%s) is above retry wait max (%s)", cfg.RetryWaitMin, cfg.RetryWaitMax)
	}
	if cfg.MaxIdleConnsPerHost < 0 {
		return nil, fmt.Errorf("max idle connections per host must be 0 or more, got %d", cfg.MaxIdleConnsPerHost)
	}
	if cfg.MaxIdleConnsPerHost == 0 {
		cfg.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if err := validateHeaders(cfg.Headers); err != nil {
		return nil, err
	}
	if strings.ContainsAny(cfg.Token, "\r\n") {
		return nil, errors.New("token must not contain a line break")
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}

	transport := cleanhttp.DefaultPooledTransport()
	transport.TLSClientConfig = tlsCfg
	transport.MaxIdleConnsPerHost = cfg.MaxIdleConnsPerHost
	transport.MaxIdleConns = max(transport.MaxIdleConns, cfg.MaxIdleConnsPerHost)

	c := &Client{
		token:     cfg.Token,
		timeout:   cfg.RequestTimeout,
		headers:   make(map[string]string, len(cfg.Headers)),
		userAgent: cfg.UserAgent,
		log:       cfg.Log,
	}
	for k, v := range cfg.Headers {
		c.headers[k] = v
	}
	c.http = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport:     keepIdleConnections{transport},
			Timeout:       cfg.RequestTimeout,
			CheckRedirect: checkRedirect,
		},
		// Logging goes through the hooks into cfg.Log; the library's own
		// logger would print URLs to stderr behind the caller's back.
		Logger:          nil,
		RetryWaitMin:    cfg.RetryWaitMin,
		RetryWaitMax:    cfg.RetryWaitMax,
		RetryMax:        cfg.Retries,
		CheckRetry:      c.checkRetry,
		Backoff:         backoff,
		ErrorHandler:    giveUp,
		RequestLogHook:  c.logRequest,
		ResponseLogHook: c.logResponse,
	}
	return c, nil
}

// RoundTripper sends requests through the client's retries, timeouts and
// TLS settings, for other HTTP APIs (a metrics provider), with the client's
// User-Agent unless the request has one of its own. It adds neither the
// token nor the client's headers: those are for the fleet only.
func (c *Client) RoundTripper() http.RoundTripper {
	return userAgent{rt: &retryablehttp.RoundTripper{Client: c.http}, value: c.userAgent}
}

// userAgent sets the User-Agent of requests that have none.
type userAgent struct {
	rt    http.RoundTripper
	value string
}

func (u userAgent) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", u.value)
	}
	return u.rt.RoundTrip(req)
}

// Deploy asks the target at address to run req.Version.
func (c *Client) Deploy(ctx context.Context, address string, req DeployRequest) error {
	if req.Metadata == nil {
		req.Metadata = map[string]string{}
	}
	u, err := endpointURL(address, deployPath)
	return c.send(ctx, http.MethodPut, u, err, req)
}

// Health reads the health of the target at address; path "" means
// DefaultHealthPath. A non-2xx answer, a body that is not a health document
// or a status other than "ok" is an error; in the last case the decoded
// Health is returned with the error so the caller still sees the version.
func (c *Client) Health(ctx context.Context, address, path string) (Health, error) {
	if path == "" {
		path = DefaultHealthPath
	}
	u, err := endpointURL(address, path)
	if err != nil {
		return Health{}, err
	}
	body, _, err := c.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Health{}, c.redact(err)
	}
	var h Health
	if err := decodeJSON(body, &h); err != nil {
		return Health{}, c.redact(fmt.Errorf("GET %s: answer is not a health document: %w", u, err))
	}
	if h.Status != HealthOK {
		return h, c.redact(&UnhealthyError{URL: u, Health: h})
	}
	return h, nil
}

// Switch asks the router at routerURL to send traffic to a slot.
func (c *Client) Switch(ctx context.Context, routerURL string, req SwitchRequest) error {
	u, err := endpointURL(routerURL, switchPath)
	return c.send(ctx, http.MethodPut, u, err, req)
}

// SetWeights asks the router at routerURL to send req.Percentage of the
// traffic to req.Version.
func (c *Client) SetWeights(ctx context.Context, routerURL string, req WeightsRequest) error {
	u, err := endpointURL(routerURL, weightsPath)
	return c.send(ctx, http.MethodPut, u, err, req)
}

// RouterState reads what the router at routerURL last applied
// (GET {router_url}/v1/state). raw is the answer as the router sent it.
func (c *Client) RouterState(ctx context.Context, routerURL string) (st RouterState, raw []byte, err error) {
	u, err := endpointURL(routerURL, routerStatePath)
	if err != nil {
		return RouterState{}, nil, err
	}
	body, _, err := c.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return RouterState{}, nil, c.redact(err)
	}
	if err := decodeJSON(body, &st); err != nil {
		return RouterState{}, nil, c.redact(fmt.Errorf("GET %s: answer is not a router state: %w", u, err))
	}
	return st, body, nil
}

// PublishFlag writes the flag document f to the flag service at endpoint.
func (c *Client) PublishFlag(ctx context.Context, endpoint string, f Flag) error {
	u, err := flagURL(endpoint, f.Flag)
	return c.send(ctx, http.MethodPut, u, err, f)
}

// ReadFlag reads the flag document name. A 404 gives an error that
// matches ErrNotFound with errors.Is.
func (c *Client) ReadFlag(ctx context.Context, endpoint, name string) (Flag, error) {
	u, err := flagURL(endpoint, name)
	if err != nil {
		return Flag{}, err
	}
	body, status, err := c.do(ctx, http.MethodGet, u, nil, http.StatusNotFound)
	if err != nil {
		return Flag{}, c.redact(err)
	}
	if status == http.StatusNotFound {
		return Flag{}, fmt.Errorf("GET %s: %w", u, ErrNotFound)
	}
	var f Flag
	if err := decodeJSON(body, &f); err != nil {
		return Flag{}, c.redact(fmt.Errorf("GET %s: answer is not a flag document: %w", u, err))
	}
	if f.Flag != name {
		return Flag{}, c.redact(fmt.Errorf("GET %s: answer is the flag document of %q, want %q", u, f.Flag, name))
	}
	return f, nil
}

// DeleteFlag deletes the flag name; a flag that is already gone (404) is
// not an error.
func (c *Client) DeleteFlag(ctx context.Context, endpoint, name string) error {
	u, err := flagURL(endpoint, name)
	return c.send(ctx, http.MethodDelete, u, err, nil, http.StatusNotFound)
}

// send calls u, the URL an endpoint helper built (urlErr, when it could
// not, is returned as it is), for a call whose answer has no body to read.
func (c *Client) send(ctx context.Context, method, u string, urlErr error, in any, accept ...int) error {
	if urlErr != nil {
		return urlErr
	}
	_, _, err := c.do(ctx, method, u, in, accept...)
	return c.redact(err)
}

func endpointURL(base, path string) (string, error) {
	u, err := ParseAddress(base)
	if err != nil {
		return "", err
	}
	return Endpoint(u.String(), path), nil
}

func flagURL(endpoint, name string) (string, error) {
	if name == "" {
		return "", errors.New("flag name must not be empty")
	}
	return endpointURL(endpoint, flagsPath+url.PathEscape(name))
}

// callKey carries a *callInfo in the request context so that the hooks of
// one call can number its attempts.
type callKey struct{}

type callInfo struct {
	method, url string
	attempt     atomic.Int32
}

// do sends one call, with retries, and returns the body of a 2xx answer or
// of an answer whose status is in accept. Any other answer is a
// *StatusError.
func (c *Client) do(ctx context.Context, method, rawURL string, in any, accept ...int) ([]byte, int, error) {
	var body any // an untyped nil tells retryablehttp there is no body
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, 0, fmt.Errorf("%s %s: encoding request body: %w", method, rawURL, err)
		}
		body = b
	}
	info := &callInfo{method: method, url: rawURL}
	req, err := retryablehttp.NewRequestWithContext(context.WithValue(ctx, callKey{}, info), method, rawURL, body)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, rawURL, err)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		var gu *gaveUpError
		if errors.As(err, &gu) {
			if gu.err != nil {
				gu.err = c.attemptTimeout(ctx, gu.err)
			}
			if gu.status != nil {
				gu.status.Method, gu.status.URL = method, rawURL
				gu.status.Body = c.scrub(gu.status.Body)
				if gu.attempts == 1 {
					return nil, 0, gu.status
				}
			}
		}
		return nil, 0, fmt.Errorf("%s %s: %w%s", method, rawURL, err, tlsHint(err))
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !ok && !slices.Contains(accept, resp.StatusCode) {
		// The status is the news here; a body that is cut short or too
		// large only shortens the excerpt.
		return nil, resp.StatusCode, &StatusError{Method: method, URL: rawURL, StatusCode: resp.StatusCode, Body: c.scrub(excerpt(data))}
	}
	if !ok {
		return nil, resp.StatusCode, nil // an accepted status, such as 404, whose body nobody reads
	}
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: reading response body: %w", method, rawURL, c.attemptTimeout(ctx, err))
	}
	if len(data) > MaxBodyBytes {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: response body exceeds 1 MiB", method, rawURL)
	}
	return data, resp.StatusCode, nil
}

// decodeJSON decodes one JSON object, so that an empty body, null, an
// array or trailing garbage are errors rather than zero values.
func decodeJSON(data []byte, v any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return errors.New("empty body")
	}
	if trimmed[0] != '{' {
		return fmt.Errorf("not a JSON object: %q", excerpt(trimmed))
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON (%w): %q", err, excerpt(trimmed))
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object: %q", excerpt(trimmed))
	}
	return nil
}

func (c *Client) logRequest(_ retryablehttp.Logger, req *http.Request, retry int) {
	info, _ := req.Context().Value(callKey{}).(*callInfo)
	if info != nil {
		info.attempt.Store(int32(retry + 1))
	}
	if c.log == nil {
		return
	}
	c.log(req.Context(), "sending request", map[string]any{
		"method":  req.Method,
		"url":     req.URL.Redacted(),
		"attempt": retry + 1,
	})
}

func (c *Client) logResponse(_ retryablehttp.Logger, resp *http.Response) {
	if c.log == nil || resp.Request == nil {
		return
	}
	ctx := resp.Request.Context()
	fields := map[string]any{
		"method": resp.Request.Method,
		"url":    resp.Request.URL.Redacted(),
		"status": resp.StatusCode,
	}
	if info, _ := ctx.Value(callKey{}).(*callInfo); info != nil {
		fields["attempt"] = int(info.attempt.Load())
	}
	c.log(ctx, "received response", fields)
	c.metAgent(ctx, resp)
}
