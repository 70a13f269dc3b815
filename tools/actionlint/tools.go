//go:build tools

// Package actionlint pins actionlint, which checks .github/workflows, in a
// module of its own: the YAML library release it needs is not the one
// goreleaser (in ../go.mod) needs. scripts/install-tools.sh builds it.
package actionlint

import (
	_ "github.com/rhysd/actionlint/cmd/actionlint"
)
