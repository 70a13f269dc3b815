// Command terraform-provider-codomyrmex serves the codomyrmex provider over
// the Terraform plugin protocol v6.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/provider"
)

// version is set by goreleaser (-X main.version).
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "set to true to run the provider with support for debuggers like delve")
	flag.Parse()
	provider.SilenceUnreadFrameworkLogs()

	opts := providerserver.ServeOpts{
		Address: "registry.terraform.io/codomyrmex/codomyrmex",
		Debug:   debug,
	}
	if err := providerserver.Serve(context.Background(), provider.New(version), opts); err != nil {
		log.Fatal(err.Error())
	}
}
