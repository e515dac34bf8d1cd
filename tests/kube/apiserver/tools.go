//go:build tools

// Package tools records kube-apiserver as this module's dependency, so go.sum pins everything it builds from.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
