// Command releasehost prints a goreleaser configuration restricted to one
// platform: every build of the configuration read from stdin keeps its
// settings but builds for GOOS/GOARCH only (the host's unless the environment
// says otherwise), so that `make release-snapshot-host` rehearses the release
// in minutes where the whole matrix (`make release-snapshot`) takes much
// longer. Archives, packages, checksums and signing are left as they are.
//
//	go run ./releasehost < ../.goreleaser.yml > ../dist-host.goreleaser.yml
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"gopkg.in/yaml.v3"
)

func main() {
	goos, goarch := envOr("GOOS", runtime.GOOS), envOr("GOARCH", runtime.GOARCH)
	if err := restrict(os.Stdin, os.Stdout, goos, goarch); err != nil {
		fmt.Fprintln(os.Stderr, "releasehost:", err)
		os.Exit(1)
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// restrict rewrites the builds of the configuration in r to goos/goarch and
// writes it to w. A build that does not target goos is kept out of the result
// (with its archives' and packages' ids still naming it, goreleaser skips them).
func restrict(r io.Reader, w io.Writer, goos, goarch string) error {
	var doc yaml.Node
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		return fmt.Errorf("reading the configuration: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("the configuration is not a YAML mapping")
	}
	builds := value(doc.Content[0], "builds")
	if builds == nil || builds.Kind != yaml.SequenceNode || len(builds.Content) == 0 {
		return fmt.Errorf("the configuration has no builds")
	}
	kept := builds.Content[:0]
	for _, b := range builds.Content {
		if b.Kind != yaml.MappingNode {
			return fmt.Errorf("a build is not a mapping (line %d)", b.Line)
		}
		if !targets(b, "goos", goos) {
			continue
		}
		setList(b, "goos", goos)
		setList(b, "goarch", goarch)
		for _, key := range []string{"ignore", "targets", "goarm", "goamd64"} {
			remove(b, key)
		}
		kept = append(kept, b)
	}
	if len(kept) == 0 {
		return fmt.Errorf("no build targets %s", goos)
	}
	builds.Content = kept
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return enc.Close()
}

// targets reports whether the build's list under key holds want (a build
// without the key builds for goreleaser's defaults, which include linux and darwin).
func targets(build *yaml.Node, key, want string) bool {
	list := value(build, key)
	if list == nil {
		return want == "linux" || want == "darwin"
	}
	for _, n := range list.Content {
		if n.Value == want {
			return true
		}
	}
	return false
}

func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setList(m *yaml.Node, key, item string) {
	list := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: item, Style: yaml.DoubleQuotedStyle}}}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = list
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, list)
}

func remove(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
