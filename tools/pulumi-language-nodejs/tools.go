//go:build tools

// Package tools records the Node.js language host as this module's dependency, so go.sum pins everything it builds from.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
