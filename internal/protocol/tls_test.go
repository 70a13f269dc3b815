package protocol

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testCA is a certificate authority made up for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "codomyrmex test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("creating CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// issue returns a PEM certificate and key signed by the CA, for 127.0.0.1
// when server is true, for client authentication otherwise.
func (ca *testCA) issue(t *testing.T, server bool) (certPEM, keyPEM string) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "codomyrmex test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("issuing certificate: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), keyToPEM(t, key)
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func keyToPEM(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func testCertPEM(t *testing.T) string {
	cert, _ := newTestCA(t).issue(t, false)
	return cert
}

func testKeyPEM(t *testing.T) string { return keyToPEM(t, newKey(t)) }

// tlsServer starts an HTTPS health endpoint with a certificate from ca;
// with clientCA set it demands a client certificate signed by it.
func tlsServer(t *testing.T, ca *testCA, clientCA *testCA) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.WriteString(w, `{"status":"ok","version":"v1"}`)
	}))
	certPEM, keyPEM := ca.issue(t, true)
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	if clientCA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clientCA.cert)
		srv.TLS.ClientCAs = pool
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	}
	// The handshake failures this test provokes are expected.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestClientTLS(t *testing.T) {
	t.Parallel()

	serverCA, clientCA, strangerCA := newTestCA(t), newTestCA(t), newTestCA(t)
	clientCert, clientKey := clientCA.issue(t, false)
	strangerCert, strangerKey := strangerCA.issue(t, false)

	tests := []struct {
		name       string
		mutual     bool
		cfg        ClientConfig
		wantErr    string
		wantServed int32
	}{
		{"unknown CA fails without retry", false, ClientConfig{}, "certificate signed by unknown authority", 0},
		{"another CA fails", false, ClientConfig{CACertPEM: strangerCA.pem}, "certificate signed by unknown authority", 0},
		{"CA works", false, ClientConfig{CACertPEM: serverCA.pem}, "", 1},
		{"insecure works", false, ClientConfig{InsecureSkipVerify: true}, "", 1},
		{"mTLS works", true, ClientConfig{CACertPEM: serverCA.pem, ClientCertPEM: clientCert, ClientKeyPEM: clientKey}, "", 1},
		{"mTLS without a client certificate fails", true, ClientConfig{CACertPEM: serverCA.pem}, "tls", 0},
		{"mTLS with a stranger's certificate fails", true, ClientConfig{CACertPEM: serverCA.pem, ClientCertPEM: strangerCert, ClientKeyPEM: strangerKey}, "tls", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mtlsCA *testCA
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
