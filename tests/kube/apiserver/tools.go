//go:build tools

// Package tools records the control plane's commands as this module's dependencies, so go.sum pins
// everything they build from: kube-apiserver for the Kubernetes checks, and kube-scheduler with
// kube-controller-manager for the simulated cluster (with kwok, tests/kube/kwok) the Kubernetes
// stacks are deployed to through the real engine.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
