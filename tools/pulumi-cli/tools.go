//go:build tools

// Package tools records the Pulumi CLI as this module's dependency, so go.sum pins everything it builds from.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi/cmd"
