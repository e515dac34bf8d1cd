import { renderNetworkPolicies, NetworkWorkload } from "../../components/platform/networkPolicies";
import { KUBERNETES_API } from "../../components/platform/service";
import { runStack, ofType } from "../helpers/mocks";

// The rendering from declared connections; the flow matrix over the rendered policies of the test and
// prod stacks is judged by cyclonus' engine in tests/integration/kubernetes-api.test.ts.

const selector = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/instance": "t" });
const ctx = { namespace: "rtdw-t", selector };
const kafka: NetworkWorkload = { name: "kafka", ports: [{ name: "kafka", port: 9092 }], connectsTo: [] };

describe("NetworkPolicies rendered from what each service connects to", () => {
  it("turns one declared connection into the caller's egress and the callee's ingress, on that port only", () => {
    const vector: NetworkWorkload = { name: "vector", ports: [{ name: "http", port: 8687 }], connectsTo: [{ service: "kafka", port: "kafka" }] };
    const policies = renderNetworkPolicies([kafka, vector], ctx);
    expect(policies.map((p) => p.name)).toEqual(["default-deny", "kafka-ingress", "vector-egress"]);
    expect(policies[1].spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: selector("vector") } }], ports: [{ port: 9092, protocol: "TCP" }] }]);
    const egress = policies[2].spec.egress!;
    expect(egress[0].ports).toEqual([{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }]);
    expect(egress[1]).toEqual({ to: [{ podSelector: { matchLabels: selector("kafka") } }], ports: [{ port: 9092, protocol: "TCP" }] });
  });

  it("sends outside peers beyond the cluster or to other namespaces, never to the stack's own pods by namespace", () => {
    const jm: NetworkWorkload = { name: "flink-jobmanager", ports: [], connectsTo: [KUBERNETES_API] };
    const rule = renderNetworkPolicies([jm], ctx)[1].spec.egress![1];
    expect(rule.ports).toEqual([{ port: 443, protocol: "TCP" }, { port: 6443, protocol: "TCP" }]);
    expect(rule.to).toEqual([{ ipBlock: { cidr: "0.0.0.0/0" } }, { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["rtdw-t"] } ] } }]);
  });

  it("fails on a connection to a service the stack does not run, or to a port it does not serve", () => {
    expect(() => renderNetworkPolicies([{ name: "vector", ports: [], connectsTo: [{ service: "kafak", port: "kafka" }] }], ctx)).toThrow(
      'vector connects to "kafak", which the stack does not run (it runs: vector)',
    );
    expect(() => renderNetworkPolicies([kafka, { name: "vector", ports: [], connectsTo: [{ service: "kafka", port: "plain" }] }], ctx)).toThrow(
      'vector connects to kafka port "plain", which kafka does not serve (it serves: kafka)',
    );
  });

  it("gives a kubernetes target with the dev profile the same default-deny policies", async () => {
    const run = await runStack("dev", { target: "kubernetes", imageRegistry: "registry.example.com/rtdw", namespace: "rtdw-dev" });
    const names = ofType(run.registered, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((p) => p.inputs.metadata.name);
    expect(names).toContain("default-deny");
    expect(names).toContain("flink-taskmanager-ingress");
    expect(names).toContain("nginx-ingress");
  });
});
