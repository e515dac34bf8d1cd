//go:build tools

// Package tools records actionlint as this module's dependency, so go.sum pins everything it builds from.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
