package clicache

// The versions of the tools scripts/install-clis.sh builds into the cache.
// scripts/versions.sh defines them for the scripts; TestVersionsMatchScript
// keeps the two the same.
const (
	TofuVersion       = "1.12.6"
	TerraformVersion  = "1.8.5"
	PrometheusVersion = "0.316.0"
	CaddyVersion      = "2.11.9"
)
