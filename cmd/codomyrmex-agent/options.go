package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// shutdownTimeout is the default of --shutdown-timeout.
const shutdownTimeout = 30 * time.Second

// serverFlags are the flags every mode takes, declared once here: where it
// listens, the tokens callers must carry, TLS, shutdown and logs.
type serverFlags struct {
	mode        string
	listen      string
	tokenFile   string
	tlsCert     string
	tlsKey      string
	tlsClientCA string
	shutdown    time.Duration
	verbose     bool
}

// defineServerFlags declares the shared flags on fs for mode, listening on
// listen by default.
func defineServerFlags(fs *flag.FlagSet, mode, listen string) *serverFlags {
	f := &serverFlags{mode: mode}
	fs.StringVar(&f.listen, "listen", listen, "`ADDR` to listen on, host:port (port 0 picks a free one)")
	fs.StringVar(&f.tokenFile, "token-file", "", "`PATH` of a file holding the bearer token every protocol call must carry")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate `FILE`; serves HTTPS with --tls-key")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key `FILE` for --tls-cert")
	fs.StringVar(&f.tlsClientCA, "tls-client-ca", "", "PEM CA certificate `FILE`: with --tls-cert, every caller must present a client certificate it signed (mutual TLS)")
	fs.DurationVar(&f.shutdown, "shutdown-timeout", shutdownTimeout, "on SIGTERM, how long calls in flight get to finish; a command still running then (serve, router) is ended, "+
		"SIGTERM to its process group and SIGKILL 5s later, and its call answered as failed (a second signal ends it at once)")
	fs.BoolVar(&f.verbose, "v", false, "log every request to stderr")
	return f
}

// check validates the shared flags.
func (f *serverFlags) check() error {
	if f.shutdown < 0 {
		return usagef("%s: --shutdown-timeout must not be negative", f.mode)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usagef("%s: --tls-cert and --tls-key go together", f.mode)
	}
	if f.tlsClientCA != "" && f.tlsCert == "" {
		return usagef("%s: --tls-client-ca needs --tls-cert and --tls-key", f.mode)
	}
	return nil
}

// tlsConfig reads --tls-cert, --tls-key and --tls-client-ca: nil when
// there is no certificate.
func (f *serverFlags) tlsConfig() (*tls.Config, error) {
	if f.tlsCert == "" {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("loading --tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	if f.tlsClientCA == "" {
		return cfg, nil
	}
	pemCA, err := os.ReadFile(f.tlsClientCA)
	if err != nil {
		return nil, fmt.Errorf("reading --tls-client-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemCA) {
		return nil, fmt.Errorf("--tls-client-ca %s holds no PEM certificate", f.tlsClientCA)
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	return cfg, nil
}

// readToken reads the bearer token file of --token-file; "" means no token.
func readToken(path string) (string, error) { return readTokenFlag("--token-file", path) }

// readTokenFlag reads the bearer token file a flag names; "" means no token.
func readTokenFlag(flagName, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", flagName, err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("%s %s is empty", flagName, path)
	}
	if strings.ContainsAny(token, "\r\n") {
		return "", fmt.Errorf("%s %s holds more than one line", flagName, path)
	}
	return token, nil
}
