package protocol

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testcert"
)

func testCertPEM(t *testing.T) string {
	cert, _ := testcert.NewCA(t, "codomyrmex test CA").Issue(t, false)
	return cert
}

func testKeyPEM(t *testing.T) string {
	_, key := testcert.NewCA(t, "codomyrmex test CA").Issue(t, false)
	return key
}

// tlsServer starts an HTTPS health endpoint with a certificate from ca;
// with clientCA set it demands a client certificate signed by it.
func tlsServer(t *testing.T, ca *testcert.CA, clientCA *testcert.CA) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := ca.StartServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.WriteString(w, `{"status":"ok","version":"v1"}`)
	}), clientCA)
	return srv, &calls
}

func TestClientTLS(t *testing.T) {
	t.Parallel()

	serverCA, clientCA, strangerCA := testcert.NewCA(t, "codomyrmex test CA"), testcert.NewCA(t, "codomyrmex test CA"), testcert.NewCA(t, "codomyrmex test CA")
	clientCert, clientKey := clientCA.Issue(t, false)
	strangerCert, strangerKey := strangerCA.Issue(t, false)

	tests := []struct {
		name       string
		mutual     bool
		cfg        ClientConfig
		wantErr    string
		wantServed int32
	}{
		{"unknown CA fails without retry", false, ClientConfig{}, "certificate signed by unknown authority", 0},
		{"another CA fails", false, ClientConfig{CACertPEM: strangerCA.PEM}, "certificate signed by unknown authority", 0},
		{"CA works", false, ClientConfig{CACertPEM: serverCA.PEM}, "", 1},
		{"insecure works", false, ClientConfig{InsecureSkipVerify: true}, "", 1},
		{"mTLS works", true, ClientConfig{CACertPEM: serverCA.PEM, ClientCertPEM: clientCert, ClientKeyPEM: clientKey}, "", 1},
		{"mTLS without a client certificate fails", true, ClientConfig{CACertPEM: serverCA.PEM}, "tls", 0},
		{"mTLS with a stranger's certificate fails", true, ClientConfig{CACertPEM: serverCA.PEM, ClientCertPEM: strangerCert, ClientKeyPEM: strangerKey}, "tls", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mtlsCA *testcert.CA
			if tt.mutual {
				mtlsCA = clientCA
			}
			srv, served := tlsServer(t, serverCA, mtlsCA)
			tt.cfg.Retries = 2
			var attempts atomic.Int32
			tt.cfg.Log = func(_ context.Context, msg string, _ map[string]any) {
				if msg == "sending request" {
					attempts.Add(1)
				}
			}
			h, err := newTestClient(t, tt.cfg).Health(context.Background(), srv.URL, "")
			if got := served.Load(); got != tt.wantServed {
				t.Errorf("server answered %d calls, want %d", got, tt.wantServed)
			}
			if tt.wantErr == "" {
				if err != nil || h.Version != "v1" {
					t.Fatalf("Health = %+v, %v", h, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			t.Logf("error: %v", err)
			if strings.Contains(tt.wantErr, "unknown authority") && attempts.Load() != 1 {
				t.Errorf("a certificate error was tried %d times, want once", attempts.Load())
			}
		})
	}
}
