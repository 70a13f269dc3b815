package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// maxTokenFileBytes bounds what a token file may hold.
const maxTokenFileBytes = 64 << 10

// tokenFile is a file of bearer tokens named by a flag (--token-file,
// --ofrep-token-file): one token a line, each accepted, so that a token is
// rotated without downtime (add the new one, move the clients, remove the
// old one). SIGHUP reads it again.
type tokenFile struct {
	flag, path string
	tokens     *protocol.Tokens
}

// loadTokenFile reads the token file a flag names; with no path, every
// call is accepted.
func loadTokenFile(flagName, path string) (*tokenFile, error) {
	f := &tokenFile{flag: flagName, path: path, tokens: protocol.NewTokens()}
	if path == "" {
		return f, nil
	}
	if _, err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// reload reads the file again and returns how many tokens it holds; on an
// error the tokens in use stay.
func (f *tokenFile) reload() (int, error) {
	if f.path == "" {
		return 0, nil
	}
	tokens, err := readTokens(f.flag, f.path)
	if err != nil {
		return 0, err
	}
	f.tokens.Replace(tokens...)
	return len(tokens), nil
}

// readTokens reads a token file: it must be readable by its owner only,
// and hold at least one token; blank lines are skipped. Errors never quote
// the file's content.
func readTokens(flagName, path string) ([]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", flagName, err)
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", flagName, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s is not a regular file", flagName, path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s %s has mode %#o: its group or others can read or change it; "+
			"make it the agent user's alone (chmod 600 %s)", flagName, path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(file, maxTokenFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", flagName, err)
	}
	if len(data) > maxTokenFileBytes {
		return nil, fmt.Errorf("%s %s is larger than %d bytes", flagName, path, maxTokenFileBytes)
	}
	var tokens []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		tok := strings.TrimSpace(sc.Text())
		if tok == "" {
			continue
		}
		if strings.ContainsFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			return nil, fmt.Errorf("%s %s: line %d holds white space or a control character inside a token (one token a line)", flagName, path, n)
		}
		tokens = append(tokens, tok)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", flagName, err)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s %s is empty", flagName, path)
	}
	return tokens, nil
}

// tlsSource is the server's TLS configuration, read from --tls-cert,
// --tls-key and --tls-client-ca, and read again on SIGHUP: each new
// handshake uses the files' current content, connections already open
// keep theirs.
type tlsSource struct {
	cert, key, clientCA string
	current             atomic.Pointer[tls.Config]
}

// load reads the files; on an error the configuration in use stays.
func (s *tlsSource) load() error {
	pair, err := tls.LoadX509KeyPair(s.cert, s.key)
	if err != nil {
		return fmt.Errorf("loading --tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}, NextProtos: []string{"h2", "http/1.1"}}
	if s.clientCA != "" {
		pemCA, err := os.ReadFile(s.clientCA)
		if err != nil {
			return fmt.Errorf("reading --tls-client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemCA) {
			return fmt.Errorf("--tls-client-ca %s holds no PEM certificate", s.clientCA)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	s.current.Store(cfg)
	return nil
}

// notAfter is when the certificate in use expires.
func (s *tlsSource) notAfter() time.Time {
	cfg := s.current.Load()
	if cfg == nil || len(cfg.Certificates) == 0 || cfg.Certificates[0].Leaf == nil {
		return time.Time{}
	}
	return cfg.Certificates[0].Leaf.NotAfter
}

// config is the listener's configuration: every handshake takes the
// current one.
func (s *tlsSource) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.current.Load(), nil
		},
	}
}

// credentials are what SIGHUP reloads: the token files and the TLS files.
type credentials struct {
	tokenFiles []*tokenFile
	tls        *tlsSource
}

// reload reads every file again and returns what it found, for the log
// line. A file that fails keeps what it had; the others are still
// reloaded, and the errors are returned together.
func (c credentials) reload() ([]any, error) {
	var attrs []any
	var errs []error
	for _, f := range c.tokenFiles {
		if f.path == "" {
			continue
		}
		n, err := f.reload()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		attrs = append(attrs, strings.ReplaceAll(strings.TrimPrefix(f.flag, "--"), "-", "_")+"_tokens", n)
	}
	if c.tls != nil {
		if err := c.tls.load(); err != nil {
			errs = append(errs, err)
		} else {
			attrs = append(attrs, "tls_not_after", c.tls.notAfter().UTC().Format(time.RFC3339))
		}
	}
	return attrs, errors.Join(errs...)
}
