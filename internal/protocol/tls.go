package protocol

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// tlsConfig builds the client TLS settings. Its errors name the attribute
// at fault and never quote PEM content.
func tlsConfig(cfg ClientConfig) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The user opts in explicitly, for test fleets with throwaway certificates.
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec
	}
	if strings.TrimSpace(cfg.CACertPEM) != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(cfg.CACertPEM)) {
			return nil, errors.New(`ca_cert_pem: no PEM "CERTIFICATE" block could be parsed`)
		}
		tc.RootCAs = pool
	}

	certSet, keySet := strings.TrimSpace(cfg.ClientCertPEM) != "", strings.TrimSpace(cfg.ClientKeyPEM) != ""
	switch {
	case certSet != keySet:
		return nil, errors.New("client_cert_pem and client_key_pem must be set together")
	case !certSet:
		return tc, nil
	}
	if !hasPEMBlock(cfg.ClientCertPEM, func(t string) bool { return t == "CERTIFICATE" }) {
		return nil, errors.New(`client_cert_pem: no PEM "CERTIFICATE" block found`)
	}
	if !hasPEMBlock(cfg.ClientKeyPEM, func(t string) bool { return strings.HasSuffix(t, "PRIVATE KEY") }) {
		return nil, errors.New(`client_key_pem: no PEM "PRIVATE KEY" block found`)
	}
	pair, err := tls.X509KeyPair([]byte(cfg.ClientCertPEM), []byte(cfg.ClientKeyPEM))
	if err != nil {
		// crypto/tls messages describe the problem, never the key bytes.
		return nil, fmt.Errorf("client_cert_pem / client_key_pem: %w", err)
	}
	tc.Certificates = []tls.Certificate{pair}
	return tc, nil
}

func hasPEMBlock(s string, want func(blockType string) bool) bool {
	rest := []byte(s)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return false
		}
		if want(block.Type) {
			return true
		}
	}
}
