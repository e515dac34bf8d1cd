//go:build tools

// Package tools records promtool as this module's dependency, so go.sum pins everything it builds from.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
