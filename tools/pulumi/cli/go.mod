module redis-ha/tools/pulumi-cli

go 1.25.11

// Repeated from github.com/pulumi/pulumi/pkg/v3@v3.248.0's go.mod: replace directives of a
// dependency are ignored, so a module that builds pkg/v3 has to restate them. Its other replace
// (github.com/pulumi/pulumi/sdk/v3 => ../sdk) points into the pulumi repository itself and is
// expressed here as the plain requirement sdk/v3 v3.248.0.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

require (
	github.com/pulumi/pulumi/pkg/v3 v3.248.0
	github.com/pulumi/pulumi/sdk/v3 v3.248.0
)

tool github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
