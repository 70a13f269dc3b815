// Package clicache finds the tools scripts/install-clis.sh builds into the
// CLI cache (OpenTofu, Terraform, Prometheus, Caddy) and holds their
// versions, the same as scripts/versions.sh.
package clicache

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir returns the CLI cache that scripts/install-clis.sh fills:
// ${CODOMYRMEX_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codomyrmex/bin}
// (scripts/versions.sh computes the same for the scripts).
func Dir() (string, error) {
	if dir := os.Getenv("CODOMYRMEX_CLI_CACHE"); dir != "" {
		return dir, nil
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "codomyrmex", "bin"), nil
}

// Binary returns the path of a tool scripts/install-clis.sh builds: $env
// when set, else <name>-<version> in the cache (Dir). It fails, naming the
// command that builds it, when that file is not an executable.
func Binary(env, name, version string) (string, error) {
	path := os.Getenv(env)
	if path == "" {
		dir, err := Dir()
		if err != nil {
			return "", fmt.Errorf("finding the %s binary: %w", name, err)
		}
		path = filepath.Join(dir, name+"-"+version)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w; build it with ./scripts/install-clis.sh %s", name, version, err, name)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s %s: %s is not an executable; build it with ./scripts/install-clis.sh %s", name, version, path, name)
	}
	return path, nil
}
