package protocol

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testcert"
)

// TestClientRedactsEchoedToken: a server that echoes the Authorization
// header in its answer must not get the token into the caller's errors,
// which end up in diagnostics; errors.As still finds the StatusError.
func TestClientRedactsEchoedToken(t *testing.T) {
	t.Parallel()
	echo := `{"error":"denied for Authorization: Bearer ` + testToken + `"}`
	cases := map[string]struct {
		answer func(w http.ResponseWriter)
		call   func(c *Client, url string) error
		want   string
	}{
		"deploy error body": {status(500, echo), func(c *Client, u string) error {
			return c.Deploy(context.Background(), u, DeployRequest{Version: "v1"})
		}, "HTTP 500 Internal Server Error: " + `{"error":"denied for Authorization: Bearer [REDACTED]"}`},
		"retried status": {status(503, echo), func(c *Client, u string) error {
			return c.Switch(context.Background(), u, SwitchRequest{Slot: "blue"})
		}, "giving up after 3 attempts, last answer: HTTP 503 Service Unavailable: " + `{"error":"denied for Authorization: Bearer [REDACTED]"}`},
		"health not JSON": {status(200, "Bearer "+testToken), func(c *Client, u string) error {
			_, err := c.Health(context.Background(), u, "")
			return err
		}, `not a JSON object: "Bearer [REDACTED]"`},
		"health status": {status(200, `{"status":"`+testToken+`"}`), func(c *Client, u string) error {
			_, err := c.Health(context.Background(), u, "")
			return err
		}, `target reports status "[REDACTED]"`},
		"flag document": {status(200, `{"flag":"`+testToken+`"}`), func(c *Client, u string) error {
			_, err := c.ReadFlag(context.Background(), u, "checkout")
			return err
		}, `answer is the flag document of "[REDACTED]"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, _ := scriptedServer(t, tc.answer)
			err := tc.call(newTestClient(t, ClientConfig{Token: testToken, Retries: 2}), srv.URL)
			if err == nil {
				t.Fatal("the call succeeded")
			}
			if strings.Contains(err.Error(), testToken) {
				t.Fatalf("the token leaked: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
			var se *StatusError
			if errors.As(err, &se) && strings.Contains(se.Error(), testToken) {
				t.Fatalf("the StatusError inside still carries the token: %v", se)
			}
		})
	}
}

// TestClientTLSHints: TLS failures name the setting that fixes them.
func TestClientTLSHints(t *testing.T) {
	t.Parallel()
	serverCA, clientCA := testcert.NewCA(t, "codomyrmex test CA"), testcert.NewCA(t, "codomyrmex test CA")
	tests := map[string]struct {
		clientCA *testcert.CA
		cfg      ClientConfig
		want     string
	}{
		"unknown CA":         {nil, ClientConfig{}, "set ca_cert_pem"},
		"client cert wanted": {clientCA, ClientConfig{CACertPEM: serverCA.PEM}, "set client_cert_pem and client_key_pem"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, _ := tlsServer(t, serverCA, tt.clientCA)
			_, err := newTestClient(t, tt.cfg).Health(context.Background(), srv.URL, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a hint %q", err, tt.want)
			}
		})
	}
	t.Run("https address, plain HTTP server", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		addr := "https://" + strings.TrimPrefix(srv.URL, "http://")
		_, err := newTestClient(t, ClientConfig{Retries: 3}).Health(context.Background(), addr, "")
		if err == nil || !strings.Contains(err.Error(), "the server speaks plain HTTP") {
			t.Fatalf("error %v, want the plain HTTP hint", err)
		}
		// A retry cannot fix an address: one attempt only.
		if strings.Contains(err.Error(), "giving up after") {
			t.Errorf("error %v: the mismatch was retried", err)
		}
	})
	if hint := tlsHint(errors.New("dial tcp 127.0.0.1:1: connect: connection refused")); hint != "" {
		t.Errorf("a connection error got the TLS hint %q", hint)
	}
}
