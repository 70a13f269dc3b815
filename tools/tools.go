//go:build tools

// Package tools pins the versions of the development tools in this module's
// go.mod, apart from the provider's own dependencies: tfplugindocs for docs/,
// golangci-lint for `make lint` and goreleaser for releases.
// scripts/install-tools.sh builds them from here into a cache outside the
// repository.
package tools

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
	_ "github.com/goreleaser/goreleaser/v2"
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)
