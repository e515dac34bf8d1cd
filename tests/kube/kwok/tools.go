//go:build tools

// Package tools records kwok as this module's dependency, so go.sum pins everything it builds from.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
