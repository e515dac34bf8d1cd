import { isOutside, OutsidePeer, Peer, PortSpec } from "./service";

/**
 * The stack's NetworkPolicies, derived from what each service and task says it connects to. One fact,
 * written once at the caller: "the collector's Vector writes to Kafka" becomes Vector's egress and
 * Kafka's ingress. Everything else is denied both ways by a namespace-wide default.
 *
 * Plain data, so the rendering can be judged by a policy engine (tests/kube) without Pulumi.
 */

/** A pod set of the stack as the policies see it: a service (ports it serves) or a task (ports: none). */
export interface NetworkWorkload {
  readonly name: string;
  readonly ports: readonly PortSpec[];
  /** Port names reachable from anywhere (the collector's public endpoint). */
  readonly publicPorts?: readonly string[];
  readonly connectsTo: readonly Peer[];
}

export interface RenderedPolicy {
  readonly name: string;
  readonly spec: NetworkPolicySpec;
}

/** The subset of networking.k8s.io/v1 NetworkPolicySpec the stack uses. */
export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes: ("Ingress" | "Egress")[];
  ingress?: { from?: PolicyPeer[]; ports: PolicyPort[] }[];
  egress?: { to: PolicyPeer[]; ports: PolicyPort[] }[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn"; values: string[] }[];
}
export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string };
}
export interface PolicyPort {
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
}

export interface NetworkPolicyContext {
  /** The stack's namespace: outside peers are any other namespace or any address beyond the cluster. */
  readonly namespace: string;
  /** The labels that select a workload's pods (name + instance). */
  readonly selector: (name: string) => Record<string, string>;
  /** Where the cluster's DNS runs; CoreDNS in kube-system with k8s-app=kube-dns on kubeadm, EKS, GKE and AKS. */
  readonly dns?: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> };
}

const NS_LABEL = "kubernetes.io/metadata.name";
const DEFAULT_DNS = { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } } as const;

export const DEFAULT_DENY = "default-deny";

export function renderNetworkPolicies(workloads: readonly NetworkWorkload[], ctx: NetworkPolicyContext): RenderedPolicy[] {
  const byName = new Map<string, NetworkWorkload>();
  for (const w of workloads) {
    if (byName.has(w.name)) throw new Error(`two workloads are named "${w.name}"`);
    byName.set(w.name, w);
  }
  const portOfPeer = (from: string, p: { service: string; port: string }): PortSpec => {
    const callee = byName.get(p.service);
    if (!callee) throw new Error(`${from} connects to "${p.service}", which the stack does not run (it runs: ${[...byName.keys()].sort().join(", ")})`);
    const port = callee.ports.find((x) => x.name === p.port);
    if (!port) throw new Error(`${from} connects to ${p.service} port "${p.port}", which ${p.service} does not serve (it serves: ${callee.ports.map((x) => x.name).join(", ") || "none"})`);
    return port;
  };

  // callee -> port name -> callers
  const callers = new Map<string, Map<string, Set<string>>>();
  for (const w of workloads) {
    for (const p of w.connectsTo) {
      if (isOutside(p)) continue;
      portOfPeer(w.name, p);
      const ports = callers.get(p.service) ?? new Map<string, Set<string>>();
      callers.set(p.service, ports);
      const set = ports.get(p.port) ?? new Set<string>();
      ports.set(p.port, set);
      set.add(w.name);
    }
  }

  const tcp = (port: number): PolicyPort => ({ port, protocol: "TCP" });
  const portOf = (p: PortSpec): PolicyPort => ({ port: p.port, protocol: p.protocol ?? "TCP" });
  const pods = (name: string): PolicyPeer => ({ podSelector: { matchLabels: ctx.selector(name) } });
  const policies: RenderedPolicy[] = [{ name: DEFAULT_DENY, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } }];

  for (const w of [...workloads].sort((a, b) => a.name.localeCompare(b.name))) {
    const pub = new Set(w.publicPorts ?? []);
    const ingress: { from?: PolicyPeer[]; ports: PolicyPort[] }[] = [];
    for (const port of w.ports) {
      if (pub.has(port.name)) {
        ingress.push({ ports: [portOf(port)] });
        continue;
      }
      const from = [...(callers.get(w.name)?.get(port.name) ?? [])].sort();
      if (from.length) ingress.push({ from: from.map(pods), ports: [portOf(port)] });
    }
    if (ingress.length) policies.push({ name: `${w.name}-ingress`, spec: { podSelector: { matchLabels: ctx.selector(w.name) }, policyTypes: ["Ingress"], ingress } });

    if (!w.connectsTo.length) continue;
    const dns = ctx.dns ?? DEFAULT_DNS;
    const egress: { to: PolicyPeer[]; ports: PolicyPort[] }[] = [
      { to: [{ namespaceSelector: { matchLabels: { [NS_LABEL]: dns.namespace } }, podSelector: { matchLabels: { ...dns.podLabels } } }], ports: [{ port: 53, protocol: "UDP" }, tcp(53)] },
    ];
    const inStack = new Map<string, Map<string, PolicyPort>>();
    const outside: OutsidePeer[] = [];
    for (const p of w.connectsTo) {
      if (isOutside(p)) outside.push(p);
      else {
        const port = portOf(portOfPeer(w.name, p));
        inStack.set(p.service, (inStack.get(p.service) ?? new Map<string, PolicyPort>()).set(`${port.protocol}/${port.port}`, port));
      }
    }
    for (const [svc, ports] of [...inStack].sort(([a], [b]) => a.localeCompare(b))) {
      egress.push({ to: [pods(svc)], ports: [...ports.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol)) });
    }
    const outsidePorts = [...new Set(outside.flatMap((o) => o.ports))].sort((a, b) => a - b);
    if (outsidePorts.length) {
      // Beyond the cluster (any address) or in another namespace; never the stack's own pods by this rule.
      egress.push({
        to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { namespaceSelector: { matchExpressions: [{ key: NS_LABEL, operator: "NotIn", values: [ctx.namespace] }] } }],
        ports: outsidePorts.map(tcp),
      });
    }
    policies.push({ name: `${w.name}-egress`, spec: { podSelector: { matchLabels: ctx.selector(w.name) }, policyTypes: ["Egress"], egress } });
  }
  return policies;
}
