package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testcert"
)

// TestListenAddress: without a token the agent listens on loopback by
// default and refuses another address unless --allow-unauthenticated is
// set; with a token it listens on every interface by default. simulate
// stays on loopback.
func TestListenAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		defaults      listenDefault
		listen        string
		allow, token  bool
		want, wantErr string
	}{
		{"default without a token", listenDefault{port: "8080"}, "", false, false, "127.0.0.1:8080", ""},
		{"default with a token", listenDefault{port: "8080"}, "", false, true, ":8080", ""},
		{"default allowed unauthenticated", listenDefault{port: "7077"}, "", true, false, ":7077", ""},
		{"simulate with a token", listenDefault{port: "7070", loopback: true}, "", false, true, "127.0.0.1:7070", ""},
		{"every interface without a token", listenDefault{port: "8080"}, ":8080", false, false, "", "--allow-unauthenticated"},
		{"an interface without a token", listenDefault{port: "8080"}, "10.0.0.5:8080", false, false, "", "without --token-file anyone"},
		{"every interface allowed", listenDefault{port: "8080"}, "0.0.0.0:8080", true, false, "0.0.0.0:8080", ""},
		{"every interface with a token", listenDefault{port: "8080"}, "[::]:8080", false, true, "[::]:8080", ""},
		{"loopback without a token", listenDefault{port: "8080"}, "127.0.0.1:0", false, false, "127.0.0.1:0", ""},
		{"IPv6 loopback", listenDefault{port: "8080"}, "[::1]:9", false, false, "[::1]:9", ""},
		{"localhost", listenDefault{port: "8080"}, "localhost:9", false, false, "localhost:9", ""},
		{"a host name without a token", listenDefault{port: "8080"}, "web-1:9", false, false, "", "--allow-unauthenticated"},
	} {
		f := &serverFlags{mode: "serve", defaults: tc.defaults, listen: tc.listen, allowUnauthenticated: tc.allow}
		got, err := f.address(tc.token)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %q, %v; want an error with %q", tc.name, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// TestBinarySecureDefaults runs the binary: another address than loopback
// without a token is refused (exit 2) in every mode that runs commands or
// stores; --allow-unauthenticated warns at start, after the first log line
// which names the address bound; a token file its group or others can
// read is refused, naming the file and its mode.
func TestBinarySecureDefaults(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	dir := t.TempDir()
	open := filepath.Join(dir, "open.token")
	if err := os.WriteFile(open, []byte("secret-token\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "flags")
	modes := map[string][]string{
		"serve":  {"serve", "--exec", "true", "--state-file", ""},
		"router": {"router", "--exec", "true", "--state-file", ""},
		"flags":  {"flags", "--data-dir", data},
	}
	for name, args := range modes {
		// The refusal comes before anything listens: no other interface is
		// ever bound here.
		out, err := runBinary(bin, append(args, "--listen", "0.0.0.0:0")...)
		if code := exitCodeOf(err); code != exitUsage || !strings.Contains(out, "--allow-unauthenticated") || !strings.Contains(out, "--listen 0.0.0.0:0") {
			t.Errorf("%s on 0.0.0.0 without a token: exit %d, output %q", name, code, out)
		}
		out, err = runBinary(bin, append(args, "--listen", "127.0.0.1:0", "--token-file", open)...)
		if code := exitCodeOf(err); code != exitError || !strings.Contains(out, "--token-file "+open+" has mode 0644") || strings.Contains(out, "secret-token") {
			t.Errorf("%s with a token file others can read: exit %d, output %q", name, code, out)
		}
	}
	out, err := runBinary(bin, "flags", "--data-dir", data, "--listen", "127.0.0.1:0", "--ofrep-token-file", open)
	if code := exitCodeOf(err); code != exitError || !strings.Contains(out, "--ofrep-token-file "+open+" has mode 0644") {
		t.Errorf("flags with an OFREP token file others can read: exit %d, output %q", code, out)
	}
	out, err = runBinary(bin, "simulate", "--listen", "127.0.0.1:0", "--token-file", open)
	if code := exitCodeOf(err); code != exitError || !strings.Contains(out, "has mode 0644") {
		t.Errorf("simulate with a token file others can read: exit %d, output %q", code, out)
	}

	p := startProcess(t, bin, "serve", "--exec", "true", "--state-file", "", "--listen", "127.0.0.1:0", "--allow-unauthenticated")
	logs := p.waitLog("serving without a token")
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	addr := strings.TrimPrefix(p.base, "http://")
	if !strings.Contains(lines[0], "serving the target protocol") || !strings.Contains(lines[0], "address="+addr) {
		t.Errorf("first log line %q does not name the address bound, %s", lines[0], addr)
	}
	if len(lines) < 2 || !strings.Contains(lines[1], "level=WARN") || !strings.Contains(lines[1], "--allow-unauthenticated") {
		t.Errorf("no warning right after the first line:\n%s", logs)
	}
	p.stop()
}

// runBinary runs the binary to its end and returns its combined output.
func runBinary(bin string, args ...string) (string, error) {
	cmd := osexec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestBinaryReloadsTokens: SIGHUP reads the token files again without
// dropping a connection: the token removed is refused, the two added are
// accepted, on a keep-alive connection opened before; a file that became
// readable by others is refused and the tokens in use stay.
func TestBinaryReloadsTokens(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	for _, tc := range []struct {
		mode   string
		args   []string
		flag   string
		path   string
		method string
		body   string
		header string
	}{
		{"serve", []string{"serve", "--exec", "true", "--state-file", ""}, "--token-file", "/v1/health", "GET", "", "Authorization"},
		{"router", []string{"router", "--exec", "true", "--state-file", ""}, "--token-file", "/v1/state", "GET", "", "Authorization"},
		{"flags", []string{"flags"}, "--token-file", "/v1/flags/x", "GET", "", "Authorization"},
		{"flags OFREP", []string{"flags"}, "--ofrep-token-file", "/ofrep/v1/evaluate/flags", "POST", `{"context":{"targetingKey":"u"}}`, "X-API-Key"},
		{"simulate", []string{"simulate"}, "--token-file", "/t/t1/v1/health", "GET", "", "Authorization"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tokens := filepath.Join(dir, "tokens")
			writeFile(t, tokens, "token-a\n", 0o600)
			args := append(tc.args, "--listen", "127.0.0.1:0", tc.flag, tokens)
			if tc.args[0] == "flags" {
				args = append(args, "--data-dir", filepath.Join(dir, "data"))
			}
			p := startProcess(t, bin, args...)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			var reused []bool
			status := func(token string) int {
				t.Helper()
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), tc.method, p.base+tc.path, strings.NewReader(tc.body))
				if token != "" {
					v := token
					if tc.header == "Authorization" {
						v = "Bearer " + token
					}
					req.Header.Set(tc.header, v)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode
			}
			if got := status("token-a"); got == http.StatusUnauthorized {
				t.Fatalf("token-a refused before the reload")
			}
			if got := status("token-b"); got != http.StatusUnauthorized {
				t.Errorf("token-b before the reload: %d, want 401", got)
			}

			writeFile(t, tokens, "token-b\n\ntoken-c\n", 0o600)
			p.signal(syscall.SIGHUP)
			p.waitLog("reloaded the credentials")
			if got := status("token-a"); got != http.StatusUnauthorized {
				t.Errorf("token-a after it was removed: %d, want 401", got)
			}
			for _, tok := range []string{"token-b", "token-c"} {
				if got := status(tok); got == http.StatusUnauthorized {
					t.Errorf("%s after it was added: 401", tok)
				}
			}
			for i, r := range reused[1:] {
				if !r {
					t.Errorf("call %d did not reuse the connection: the reload dropped it", i+2)
				}
			}

			writeFile(t, tokens, "token-d\n", 0o644)
			p.signal(syscall.SIGHUP)
			logs := p.waitLog("reloading the credentials failed")
			if !strings.Contains(logs, "has mode 0644") || strings.Contains(logs, "token-a") || strings.Contains(logs, "token-b") || strings.Contains(logs, "token-d") {
				t.Errorf("the failed reload's log does not name the mode, or quotes a token:\n%s", logs)
			}
			if got := status("token-b"); got == http.StatusUnauthorized {
				t.Errorf("token-b after a failed reload: 401, want it kept")
			}
			if got := status("token-d"); got != http.StatusUnauthorized {
				t.Errorf("token-d from a refused file: %d, want 401", got)
			}
			p.stop()
		})
	}
}

// TestBinaryReloadsTLS: SIGHUP reads the certificate and key again: new
// connections get the new certificate, a connection open before keeps
// working with the old one.
func TestBinaryReloadsTLS(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	dir := t.TempDir()
	oldCA, newCA := testcert.NewCA(t, "old CA"), testcert.NewCA(t, "new CA")
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	install := func(ca *testcert.CA) {
		cert, key := ca.Issue(t, true)
		if err := os.WriteFile(certFile, []byte(cert), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	install(oldCA)
	p := startProcess(t, bin, "serve", "--exec", "true", "--state-file", "", "--listen", "127.0.0.1:0",
		"--tls-cert", certFile, "--tls-key", keyFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(oldCA.PEM))
	pool.AppendCertsFromPEM([]byte(newCA.PEM))
	newClient := func() *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}}}
	}
	issuer := func(c *http.Client) (string, bool) {
		t.Helper()
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", p.base+"/v1/health", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].Issuer.CommonName, reused
	}
	before := newClient()
	if got, _ := issuer(before); got != "old CA" {
		t.Fatalf("certificate issued by %q, want the old CA", got)
	}
	install(newCA)
	p.signal(syscall.SIGHUP)
	if logs := p.waitLog("reloaded the credentials"); !strings.Contains(logs, "tls_not_after=") {
		t.Errorf("the reload does not say when the certificate expires:\n%s", logs)
	}
	if got, _ := issuer(newClient()); got != "new CA" {
		t.Errorf("a new connection got a certificate issued by %q, want the new CA", got)
	}
	if got, reused := issuer(before); got != "old CA" || !reused {
		t.Errorf("the connection open before the reload: issuer %q, reused %v; want it kept", got, reused)
	}
	p.stop()
}

// exitCodeOf is the exit code of a finished command's error.
func exitCodeOf(err error) int {
	var exitErr *osexec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
