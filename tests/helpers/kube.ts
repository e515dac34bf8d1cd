import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import * as YAML from "yaml";
import type * as K8s from "@kubernetes/client-node";
import { Registered } from "./mocks";
export { stackFileConfig } from "./config";

/**
 * The Kubernetes checks: the objects a stack registers (captured under Pulumi's mocks) created in a
 * real API server (sandbox/services/kubernetes.ts), admitted as its pods would be, asked what each
 * ServiceAccount may do, and the NetworkPolicies judged by cyclonus' engine (tests/kube/netpol-judge).
 * Each check returns the problems it found, so a test can show it failing on a broken object too.
 */

const k8s = require("@kubernetes/client-node") as typeof import("@kubernetes/client-node");

export interface Manifest extends K8s.KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: K8s.V1ObjectMeta & { name: string };
  [field: string]: unknown;
}

/**
 * Kubernetes objects from the registered resources, as the provider would send them. Objects without
 * a name get the one the mocks answered with (what other objects' references carry).
 */
export function manifests(registered: readonly Registered[], autoName: (resourceName: string) => string): Manifest[] {
  const out: Manifest[] = [];
  for (const r of registered) {
    const m = /^kubernetes:([^:]+):(\w+)$/.exec(r.type);
    if (!m) continue;
    const apiVersion = m[1].startsWith("core/") ? m[1].slice("core/".length) : m[1];
    const inputs = JSON.parse(JSON.stringify(r.inputs)) as Record<string, unknown> & { metadata?: K8s.V1ObjectMeta };
    const metadata = { ...(inputs.metadata ?? {}), name: inputs.metadata?.name ?? autoName(r.name) };
    out.push({ ...inputs, apiVersion, kind: m[2], metadata });
  }
  return out;
}

export interface ApiServer {
  readonly kc: K8s.KubeConfig;
  readonly objects: K8s.KubernetesObjectApi;
  readonly core: K8s.CoreV1Api;
  readonly authz: K8s.AuthorizationV1Api;
}

export function connect(kubeconfig: string): ApiServer {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kc, objects: k8s.KubernetesObjectApi.makeApiClient(kc), core: kc.makeApiClient(k8s.CoreV1Api), authz: kc.makeApiClient(k8s.AuthorizationV1Api) };
}

/** What the API server said about one object: accepted (with its warnings) or refused (with its message). */
export interface ApplyResult {
  readonly object: string;
  readonly accepted: boolean;
  readonly warnings: readonly string[];
  readonly message?: string;
}

const describeObject = (o: Manifest) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

function errorMessage(e: unknown): string {
  const body = (e as { body?: { message?: string } }).body;
  return body?.message ?? (e as Error).message ?? String(e);
}

/** Server-side apply, as the Pulumi Kubernetes provider does with enableServerSideApply. */
export async function apply(api: ApiServer, o: Manifest, dryRun = false): Promise<ApplyResult> {
  try {
    const r = await api.objects.patch(o, undefined, dryRun ? "All" : undefined, "rtdw-kubernetes-checks", true, {
      headers: { "Content-Type": k8s.PatchUtils.PATCH_FORMAT_APPLY_YAML },
    });
    const w = r.response.headers.warning;
    const warnings = (Array.isArray(w) ? w : w ? [w] : []).map((x) => x.replace(/^299 - /, "").replace(/^"|"$/g, ""));
    return { object: describeObject(o), accepted: true, warnings };
  } catch (e) {
    return { object: describeObject(o), accepted: false, warnings: [], message: errorMessage(e) };
  }
}

const ORDER = ["Namespace", "ServiceAccount", "ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding", "ConfigMap", "Secret", "Service", "NetworkPolicy", "PodDisruptionBudget"];
const rank = (kind: string) => (ORDER.includes(kind) ? ORDER.indexOf(kind) : ORDER.length);

/**
 * Creates every object in dependency order (namespace, identities and roles, then configuration,
 * then workloads), plus what a cluster's controllers would create (the namespace's `default`
 * ServiceAccount). Returns what the server said about each.
 */
export async function applyAll(api: ApiServer, objects: readonly Manifest[]): Promise<ApplyResult[]> {
  const sorted = [...objects].sort((a, b) => rank(a.kind) - rank(b.kind));
  const results: ApplyResult[] = [];
  for (const o of sorted) {
    results.push(await apply(api, o));
    if (o.kind === "Namespace") {
      results.push(await apply(api, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: o.metadata.name } }));
    }
  }
  return results;
}

interface PodTemplateOwner {
  metadata: K8s.V1ObjectMeta & { name: string };
  spec?: { template?: K8s.V1PodTemplateSpec; jobTemplate?: { spec?: { template?: K8s.V1PodTemplateSpec } }; volumeClaimTemplates?: { metadata?: { name?: string } }[] };
}

/**
 * The pod a workload's controller would create, under a name of its own (the sandbox's controllers
 * create the real first replica from the same workload). A StatefulSet's controller adds one volume
 * per claim template (claim <template>-<set>-<ordinal>), as here.
 */
export function podsOf(o: Manifest): Manifest[] {
  const w = o as unknown as PodTemplateOwner;
  const template = w.spec?.template ?? w.spec?.jobTemplate?.spec?.template;
  if (!template?.spec || !["Deployment", "StatefulSet", "Job", "DaemonSet", "CronJob"].includes(o.kind)) return [];
  const claims = (w.spec?.volumeClaimTemplates ?? []).map((c) => ({ name: c.metadata!.name!, persistentVolumeClaim: { claimName: `${c.metadata!.name}-${o.metadata.name}-0` } }));
  return [
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `${o.metadata.name}-admission-check`, namespace: o.metadata.namespace, labels: template.metadata?.labels },
      spec: { ...template.spec, volumes: [...(template.spec.volumes ?? []), ...claims] },
    },
  ];
}

/** Pod admission exactly as the cluster would judge the controllers' pods (dry run: validated and admitted, not stored). */
export async function admitPods(api: ApiServer, workloads: readonly Manifest[]): Promise<ApplyResult[]> {
  const out: ApplyResult[] = [];
  for (const w of workloads) for (const pod of podsOf(w)) out.push({ ...(await apply(api, pod, true)), object: `Pod of ${w.kind} ${w.metadata.name}` });
  return out;
}

/** One question to the API server's authorizer. */
export interface AccessQuestion {
  readonly verb: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly group?: string;
  /** Omitted for cluster-scoped resources. */
  readonly namespace?: string;
}

export async function mayDo(api: ApiServer, serviceAccount: { namespace: string; name: string }, q: AccessQuestion): Promise<boolean> {
  const r = await api.authz.createSubjectAccessReview({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: `system:serviceaccount:${serviceAccount.namespace}:${serviceAccount.name}`,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${serviceAccount.namespace}`, "system:authenticated"],
      resourceAttributes: { verb: q.verb, resource: q.resource, subresource: q.subresource, group: q.group ?? "", namespace: q.namespace },
    },
  });
  return !!r.body.status?.allowed;
}

export const formatQuestion = (q: AccessQuestion) =>
  `${q.verb} ${q.group ? `${q.group}/` : ""}${q.resource}${q.subresource ? `/${q.subresource}` : ""}${q.namespace ? ` in ${q.namespace}` : " (cluster)"}`;

/** A pod set as the policy engine sees it: its labels and namespace, or an address beyond the cluster. */
export type FlowEnd = { readonly pod: Readonly<Record<string, string>>; readonly namespace: string } | { readonly ip: string };

export interface Flow {
  readonly from: FlowEnd;
  readonly to: FlowEnd;
  readonly port: number;
  readonly protocol?: "TCP" | "UDP";
}

export interface FlowVerdict {
  readonly ingress: boolean;
  readonly egress: boolean;
  readonly ingressBy: readonly string[];
  readonly egressBy: readonly string[];
}

/**
 * Pods get addresses from a pod range, as in a cluster: CNIs match ipBlock rules against pod
 * addresses too, so the engine sees both the labels and an address.
 */
function podAddress(e: { pod: Readonly<Record<string, string>>; namespace: string }): string {
  let h = 0;
  for (const c of JSON.stringify([e.namespace, e.pod])) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `10.244.${(h >>> 8) & 255}.${(h & 253) + 1}`;
}

const peer = (e: FlowEnd) =>
  "ip" in e ? { IP: e.ip } : { IP: podAddress(e), Internal: { PodLabels: e.pod, Namespace: e.namespace, NamespaceLabels: { "kubernetes.io/metadata.name": e.namespace } } };

/** Asks netpol-judge (cyclonus' engine) whether the policies allow each flow, in one run. */
export function judgeFlows(judgeBin: string, policies: readonly Manifest[], flows: readonly Flow[]): FlowVerdict[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-netpol-"));
  try {
    policies.forEach((p, i) => fs.writeFileSync(path.join(dir, `${String(i).padStart(3, "0")}-${p.metadata.name}.yaml`), YAML.stringify(p)));
    const request = { policyDir: dir, flows: flows.map((f) => ({ Source: peer(f.from), Destination: peer(f.to), Protocol: f.protocol ?? "TCP", ResolvedPort: f.port, ResolvedPortName: "" })) };
    const r = spawnSync(judgeBin, [], { input: JSON.stringify(request), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`netpol-judge failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as FlowVerdict[];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Deletes what `applyAll` created: the namespaces (with everything in them) and the cluster-scoped
 * objects, and waits until the namespaces are gone. The sandbox's controllers start pods for the
 * workloads, which would otherwise take room on the nodes a later test creates.
 */
export async function removeAll(api: ApiServer, objects: readonly Manifest[], timeoutMs = 180_000): Promise<void> {
  const namespaces = new Set(objects.map((o) => (o.kind === "Namespace" ? o.metadata.name : o.metadata.namespace)).filter((n): n is string => !!n));
  for (const o of objects.filter((x) => !x.metadata.namespace && x.kind !== "Namespace")) await api.objects.delete(o).catch(() => undefined);
  for (const ns of namespaces) await api.core.deleteNamespace(ns).catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  for (const ns of namespaces) {
    while (await api.core.readNamespace(ns).then(() => true, () => false)) {
      if (Date.now() > deadline) throw new Error(`namespace ${ns} was not deleted within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The storage class of the simulated cluster: bound when a pod is scheduled (as on clouds), expandable, the default. */
export const SIMULATED_CLASS = "rtdw-sim";

/**
 * A node pool of the simulated cluster, as a stack's documented pool (components/config/nodePool.ts):
 * kwok nodes (`kwok.x-k8s.io/node: fake`) of the pool's shape less what a kubelet keeps, spread over
 * three zones, the default storage class and `volumes` pre-made volumes of 1Ti for the claims. All
 * labelled `label`, so that removeNodePool finds them.
 */
export async function createNodePool(api: ApiServer, pool: { nodes: number; shape: { cpu: number; memoryGiB: number } }, reserved: { cpu: number; memoryGiB: number }, label: string, volumes: number): Promise<string[]> {
  const [key, value] = label.split("=");
  const put = async (o: Record<string, unknown>) => {
    const r = await apply(api, o as unknown as Manifest);
    if (!r.accepted) throw new Error(`${r.object}: ${r.message}`);
  };
  const names = Array.from({ length: pool.nodes }, (_, i) => `${value}-node-${i}`);
  for (const [i, name] of names.entries()) {
    await put({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, annotations: { "kwok.x-k8s.io/node": "fake" }, labels: { "kubernetes.io/hostname": name, [key]: value, "topology.kubernetes.io/zone": `zone-${i % 3}` } },
      spec: {},
      status: {
        capacity: { cpu: String(pool.shape.cpu), memory: `${pool.shape.memoryGiB}Gi`, pods: "110", "ephemeral-storage": "200Gi" },
        allocatable: { cpu: String(pool.shape.cpu - reserved.cpu), memory: `${pool.shape.memoryGiB - reserved.memoryGiB}Gi`, pods: "110", "ephemeral-storage": "180Gi" },
      },
    });
  }
  await put({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: SIMULATED_CLASS, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
  });
  const run = Date.now().toString(36);
  for (let i = 0; i < volumes; i++) {
    await put({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `${value}-pv-${run}-${i}`, labels: { [key]: value } },
      spec: { capacity: { storage: "1Ti" }, accessModes: ["ReadWriteOnce"], storageClassName: SIMULATED_CLASS, persistentVolumeReclaimPolicy: "Retain", hostPath: { path: `/var/lib/rtdw-sim/${i}` } },
    });
  }
  return names;
}

/** Deletes a pool's nodes and volumes (and the storage class): after its namespaces are gone. */
export async function removeNodePool(api: ApiServer, label: string): Promise<void> {
  for (const pv of (await api.core.listPersistentVolume(undefined, undefined, undefined, undefined, label)).body.items) await api.core.deletePersistentVolume(pv.metadata!.name!).catch(() => undefined);
  for (const n of (await api.core.listNode(undefined, undefined, undefined, undefined, label)).body.items) await api.core.deleteNode(n.metadata!.name!).catch(() => undefined);
  await api.objects.delete({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: SIMULATED_CLASS } } as K8s.KubernetesObject).catch(() => undefined);
}
