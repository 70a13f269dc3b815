package protocol

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxRedirects is how many redirects one attempt follows.
const maxRedirects = 10

var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", maxRedirects)

// checkRetry retries connection errors, timeouts, 429, 502, 503 and 504;
// every other answer is final, and so are failures that a retry cannot fix
// (certificates, an https address served by plain HTTP, redirect loops) and
// the caller's own cancellation.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	once := ctx.Value(noRetriesKey{}) != nil
	if err != nil {
		retry := isTransient(err) && !once
		if c.log != nil {
			fields := map[string]any{"error": err.Error(), "will_retry": retry}
			if info, _ := ctx.Value(callKey{}).(*callInfo); info != nil {
				fields["method"], fields["url"], fields["attempt"] = info.method, info.url, int(info.attempt.Load())
			}
			c.log(ctx, "request failed", fields)
		}
		return retry, nil
	}
	return isTransientStatus(resp.StatusCode) && !once, nil
}

type noRetriesKey struct{}

// WithoutRetries marks calls made with ctx as single attempts: a transient
// failure is returned at once instead of being retried. For callers that
// poll anyway, such as a wait for a deployed target to become healthy, whose
// next poll is the retry.
func WithoutRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetriesKey{}, true)
}

func isTransientStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isTransient reports whether a transport error may go away on its own.
func isTransient(err error) bool {
	var (
		verifyErr    *tls.CertificateVerificationError
		unknownCA    x509.UnknownAuthorityError
		hostnameErr  x509.HostnameError
		invalidErr   x509.CertificateInvalidError
		recordHeader tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, errTooManyRedirects), errors.Is(err, http.ErrSchemeMismatch),
		errors.As(err, &verifyErr), errors.As(err, &unknownCA),
		errors.As(err, &hostnameErr), errors.As(err, &invalidErr),
		errors.As(err, &recordHeader):
		return false
	}
	// The peer refused the handshake (e.g. our client certificate); its
	// alert type is not exported.
	return !strings.Contains(err.Error(), "remote error: tls:")
}

// tlsHint names the setting that addresses a TLS failure, for the message
// of err; "" when err is not one.
func tlsHint(err error) string {
	var (
		unknownCA   x509.UnknownAuthorityError
		hostnameErr x509.HostnameError
		invalidErr  x509.CertificateInvalidError
	)
	msg := err.Error()
	switch {
	case errors.As(err, &unknownCA):
		return " (the server's certificate is not signed by a CA the provider trusts: set ca_cert_pem to the CA that issued it)"
	case errors.As(err, &hostnameErr):
		return " (the server's certificate does not name this host: check the address or the certificate)"
	case errors.As(err, &invalidErr):
		return " (the server's certificate is not valid: expired, not yet valid or not for server authentication)"
	case strings.Contains(msg, "remote error: tls: certificate required"):
		return " (the server wants a client certificate: set client_cert_pem and client_key_pem)"
	case strings.Contains(msg, "remote error: tls: bad certificate"),
		strings.Contains(msg, "remote error: tls: unknown certificate authority"),
		strings.Contains(msg, "remote error: tls: expired certificate"):
		return " (the server refused the client certificate: check client_cert_pem and client_key_pem)"
	case errors.Is(err, http.ErrSchemeMismatch):
		return " (the address says https:// but the server speaks plain HTTP)"
	}
	return ""
}

// backoff is the retryablehttp.Backoff: the server's Retry-After when it
// gave one (capped at max), else exponential from min with jitter.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	return backoffAt(time.Now(), minWait, maxWait, attempt, resp)
}

func backoffAt(now time.Time, minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if d, ok := retryAfter(now, resp); ok {
		return min(d, maxWait)
	}
	d := maxWait
	if attempt < 62 {
		if exp := minWait << attempt; exp > 0 && exp < maxWait {
			d = exp
		}
	}
	// Equal jitter: at least half the step, so waits still grow.
	half := d / 2
	d = half + rand.N(d-half+1)
	return max(d, minWait)
}

// maxRetryAfter caps a Retry-After wait before RetryWaitMax does.
const maxRetryAfter = 24 * time.Hour

// retryAfter parses Retry-After as seconds or an HTTP date.
func retryAfter(now time.Time, resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) { // avoids overflow; capped later anyway
			secs = int64(maxRetryAfter / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		// A date centuries ahead saturates Sub; cap it like the seconds form.
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

// gaveUpError is what a call returns once retryablehttp stops: the number
// of attempts and the last cause, an answer (status) or an error.
type gaveUpError struct {
	attempts int
	status   *StatusError
	err      error
}

func (e *gaveUpError) Error() string {
	if e.status != nil {
		return fmt.Sprintf("giving up after %s, last answer: %s", attempts(e.attempts), e.status.answer())
	}
	if e.attempts == 1 {
		return e.err.Error()
	}
	return fmt.Sprintf("giving up after %s, last error: %v", attempts(e.attempts), e.err)
}

func (e *gaveUpError) Unwrap() error {
	if e.status != nil {
		return e.status
	}
	return e.err
}

// AttemptTimeoutError is an attempt cut off by ClientConfig.RequestTimeout.
// net/http words that "Client.Timeout exceeded" or, when its timer loses
// the race with the request's own deadline, a bare "context deadline
// exceeded"; this error says the same thing every time. It unwraps to the
// net/http error, so errors.Is(err, context.DeadlineExceeded) holds.
type AttemptTimeoutError struct {
	After time.Duration
	err   error
}

func (e *AttemptTimeoutError) Error() string {
	return fmt.Sprintf("no answer within the request timeout (%s)", e.After)
}

func (e *AttemptTimeoutError) Unwrap() error { return e.err }

// attemptTimeout turns err into an AttemptTimeoutError when the request
// timeout cut the attempt off, that is, when err is a deadline and the
// caller's ctx is still live (the caller's own deadline stays as it is).
func (c *Client) attemptTimeout(ctx context.Context, err error) error {
	if ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &AttemptTimeoutError{After: c.timeout, err: err}
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}

// giveUp is the retryablehttp.ErrorHandler: it closes the last answer and
// keeps what is worth reporting.
func giveUp(resp *http.Response, err error, numTries int) (*http.Response, error) {
	if err != nil {
		// url.Error repeats method and URL, which the caller adds anyway.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if resp != nil {
			resp.Body.Close()
		}
		return nil, &gaveUpError{attempts: numTries, err: err}
	}
	if resp == nil {
		return nil, &gaveUpError{attempts: numTries, err: errors.New("no answer")}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4*maxExcerpt))
	return nil, &gaveUpError{attempts: numTries, status: &StatusError{StatusCode: resp.StatusCode, Body: excerpt(data)}}
}

type originOnlyKey struct{}

// WithOriginOnlyHeaders marks the headers named in calls made with ctx as
// secrets of the first request's origin: like the token, they are dropped
// when a redirect leaves it (net/http forwards any other header anywhere).
func WithOriginOnlyHeaders(ctx context.Context, names ...string) context.Context {
	if len(names) == 0 {
		return ctx
	}
	return context.WithValue(ctx, originOnlyKey{}, names)
}

// checkRedirect follows at most maxRedirects redirects and drops the token,
// and the headers of WithOriginOnlyHeaders, as soon as the chain leaves the
// origin (scheme, host and port) of the first request. net/http alone
// compares host names only, so it would hand the token to another port of
// the same host.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return errTooManyRedirects
	}
	first := origin(via[0].URL)
	left := origin(req.URL) != first
	for _, prev := range via[1:] {
		left = left || origin(prev.URL) != first
	}
	if left {
		req.Header.Del("Authorization")
		names, _ := req.Context().Value(originOnlyKey{}).([]string)
		for _, name := range names {
			req.Header.Del(name)
		}
	}
	return nil
}

func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
