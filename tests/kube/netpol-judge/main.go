// netpol-judge answers, for each flow on stdin, whether a directory of NetworkPolicies allows it, with
// cyclonus' policy engine (the one its `analyze --mode query-traffic` uses), as JSON the tests read.
//
// stdin:  {"policyDir": "...", "flows": [cyclonus matcher.Traffic, ...]}
// stdout: [{"ingress": bool, "egress": bool, "ingressBy": [policy names], "egressBy": [...]}, ...]
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/mattfenwick/cyclonus/pkg/kube"
	"github.com/mattfenwick/cyclonus/pkg/matcher"
)

type request struct {
	PolicyDir string             `json:"policyDir"`
	Flows     []*matcher.Traffic `json:"flows"`
}

type verdict struct {
	Ingress   bool     `json:"ingress"`
	Egress    bool     `json:"egress"`
	IngressBy []string `json:"ingressBy"`
	EgressBy  []string `json:"egressBy"`
}

func names(d *matcher.DirectionResult) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, t := range d.AllowingTargets {
		for _, p := range t.SourceRules {
			if !seen[p.Name] {
				seen[p.Name] = true
				out = append(out, p.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "netpol-judge: bad request: %v\n", err)
		os.Exit(2)
	}
	policies, err := kube.ReadNetworkPoliciesFromPath(req.PolicyDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "netpol-judge: reading %s: %v\n", req.PolicyDir, err)
		os.Exit(2)
	}
	engine := matcher.BuildNetworkPolicies(true, policies)
	out := make([]verdict, 0, len(req.Flows))
	for _, f := range req.Flows {
		r := engine.IsTrafficAllowed(f)
		out = append(out, verdict{Ingress: r.Ingress.IsAllowed(), Egress: r.Egress.IsAllowed(), IngressBy: names(r.Ingress), EgressBy: names(r.Egress)})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
