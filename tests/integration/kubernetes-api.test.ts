import { FLINK_PORTS } from "../../components/flink/properties";
import { JOB_EXPORTER_PORT } from "../../components/flink/jobExporter";
import { STARROCKS_PORTS } from "../../components/starrocks/starrocks";
import type * as K8s from "@kubernetes/client-node";
import { podGroups, StackConfig } from "../../components/config";
import { nodePool, NODE_RESERVED } from "../../components/config/nodePool";
import { jobClusterName } from "../../components/config/flinkSizing";
import { NETPOL_JUDGE_BIN } from "../../sandbox/install";
import { kubeAccess } from "../../sandbox/services/kubernetes";
import { serviceContext } from "../../sandbox/services/types";
import {
  AccessQuestion,
  admitPods,
  ApiServer,
  apply,
  applyAll,
  ApplyResult,
  connect,
  Flow,
  FlowEnd,
  formatQuestion,
  judgeFlows,
  Manifest,
  manifests,
  mayDo,
  createNodePool,
  removeAll,
  removeNodePool,
  stackFileConfig,
} from "../helpers/kube";
import { autoName, runStack, testGeoipDatabase } from "../helpers/mocks";

/**
 * The test and prod stacks judged the way a cluster judges them. Every Kubernetes object the program
 * registers (captured under Pulumi's mocks, with the stack files' own config: `pulumi up` of these
 * stacks cannot run here, their random/docker/aws plugins cannot be built) is created by server-side
 * apply in the sandbox's real kube-apiserver v1.37.2, whose namespace enforces Pod Security
 * `restricted`; the pods the controllers would start are admitted by it; its authorizer answers what
 * each ServiceAccount may do; and cyclonus' NetworkPolicy engine judges the flow matrix. There are no
 * nodes: everything up to scheduling is real, nothing runs.
 */

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "Job"];

/** Questions every ServiceAccount is asked; what its pods need must be allowed, the rest denied. */
function battery(ns: string): AccessQuestion[] {
  const inNs = (resource: string, verbs: string[], extra: Partial<AccessQuestion> = {}) => verbs.map((verb) => ({ verb, resource, namespace: ns, ...extra }));
  return [
    ...inNs("configmaps", ["get", "list", "watch", "create", "update", "patch", "delete"]),
    ...inNs("secrets", ["get", "list", "watch"]),
    ...inNs("pods", ["get", "list", "watch", "create", "delete"]),
    ...inNs("pods", ["create"], { subresource: "exec" }),
    ...inNs("pods", ["create"], { subresource: "portforward" }),
    ...inNs("serviceaccounts", ["create"], { subresource: "token" }),
    ...inNs("services", ["get", "list"]),
    ...inNs("deployments", ["create", "patch"], { group: "apps" }),
    ...inNs("roles", ["create", "bind", "escalate"], { group: "rbac.authorization.k8s.io" }),
    { verb: "get", resource: "configmaps", namespace: "kube-system" },
    { verb: "list", resource: "pods", namespace: "kube-system" },
    { verb: "get", resource: "secrets", namespace: "kube-system" },
    ...["get", "list", "watch"].map((verb) => ({ verb, resource: "nodes" })),
    { verb: "get", resource: "nodes", subresource: "metrics" },
    { verb: "get", resource: "nodes", subresource: "proxy" },
    { verb: "create", resource: "nodes", subresource: "proxy" },
    { verb: "get", resource: "nodes", subresource: "stats" },
    { verb: "list", resource: "namespaces" },
    { verb: "create", resource: "clusterroles", group: "rbac.authorization.k8s.io" },
  ];
}

const key = (q: AccessQuestion) => formatQuestion(q);

/** What each ServiceAccount's pods need, per verb and resource; every other question of the battery must be denied. */
function needs(ns: string, clusters: readonly string[]): Record<string, AccessQuestion[]> {
  const cm = (verbs: string[]) => verbs.map((verb) => ({ verb, resource: "configmaps", namespace: ns }));
  return {
    // Flink Kubernetes HA (each job's cluster): the JobManagers elect a leader by editing ConfigMaps ...
    ...Object.fromEntries(clusters.map((c) => [`${c}-jobmanager`, cm(["get", "list", "watch", "create", "update", "patch", "delete"])])),
    // ... TaskManagers and the SQL Gateway's client find the leader by reading and watching them.
    ...Object.fromEntries(clusters.map((c) => [`${c}-taskmanager`, cm(["get", "list", "watch"])])),
    "flink-sql-gateway": cm(["get", "list", "watch"]),
    // Prometheus: discovers the platform's pods, lists nodes and reads each kubelet's /metrics/cadvisor.
    prometheus: [
      ...["get", "list", "watch"].map((verb) => ({ verb, resource: "pods", namespace: ns })),
      ...["get", "list", "watch"].map((verb) => ({ verb, resource: "nodes" })),
      { verb: "get", resource: "nodes", subresource: "metrics" },
    ],
    // Every other pod runs as the namespace's default ServiceAccount, without a token, and may do nothing.
    default: [],
  };
}

/** Differences between what a ServiceAccount may do and what its pods need: empty when exact. */
async function rbacProblems(api: ApiServer, sa: { namespace: string; name: string }, needed: readonly AccessQuestion[]): Promise<string[]> {
  const want = new Set(needed.map(key));
  const problems: string[] = [];
  for (const q of [...battery(sa.namespace), ...needed.filter((n) => !battery(sa.namespace).some((b) => key(b) === key(n)))]) {
    const allowed = await mayDo(api, sa, q);
    if (allowed && !want.has(key(q))) problems.push(`${sa.name} may ${key(q)}, which its pods do not need`);
    if (!allowed && want.has(key(q))) problems.push(`${sa.name} may not ${key(q)}, which its pods need`);
  }
  return problems;
}

/** The job clusters the flow matrix names (each job's own, test and prod). */
const FLINK = { cdc: jobClusterName("rt-dw-cdc-ingestion"), dws: jobClusterName("rt-dw-dws-aggregate"), trk: jobClusterName("rt-trk-ods") };

interface FlowCase {
  readonly what: string;
  readonly flow: Flow;
  readonly allowed: boolean;
}

function flowProblems(judgeBin: string, policies: readonly Manifest[], cases: readonly FlowCase[]): string[] {
  const verdicts = judgeFlows(judgeBin, policies, cases.map((c) => c.flow));
  return cases.flatMap((c, i) => {
    const v = verdicts[i];
    const allowed = v.ingress && v.egress;
    if (allowed === c.allowed) return [];
    const why = allowed ? `allowed by ${[...v.egressBy, ...v.ingressBy].join(", ") || "no policy selecting either end"}` : `denied on ${[!v.egress && "egress", !v.ingress && "ingress"].filter(Boolean).join(" and ")}`;
    return [`${c.what}: expected ${c.allowed ? "allowed" : "denied"}, ${why}`];
  });
}

describe.each(["test", "prod"])("%s stack in a real Kubernetes API server, then scheduled on its documented node pool", (stack) => {
  let api: ApiServer;
  let objects: Manifest[];
  let applied: ApplyResult[];
  let ns: string;
  let pods: (name: string) => FlowEnd;
  let cases: FlowCase[];
  let cfg: StackConfig;
  const poolLabel = `rtdw.test/pool=${stack}-api`;
  const access = kubeAccess(serviceContext());

  beforeAll(async () => {
    // Prod's file names the operator's GeoLite2 database; here the tests' own stands in for it.
    const run = await runStack(stack, { ...stackFileConfig(stack), ...(stack === "prod" ? { collector: JSON.stringify({ geoip: { path: testGeoipDatabase() } }) } : {}) });
    cfg = run.cfg;
    ns = run.cfg.namespace;
    objects = manifests(run.registered, (n) => autoName(stack, n));
    api = connect(access.kubeconfig);
    applied = await applyAll(api, objects.filter((o) => !WORKLOAD_KINDS.includes(o.kind)));
    applied.push(...(await applyAll(api, objects.filter((o) => WORKLOAD_KINDS.includes(o.kind)))));

    const labelsOf = (name: string): Record<string, string> => {
      const w = objects.find((o) => WORKLOAD_KINDS.includes(o.kind) && (o as { spec?: { template?: { metadata?: { labels?: Record<string, string> } } } }).spec?.template?.metadata?.labels?.["app.kubernetes.io/name"] === name);
      const labels = (w as { spec?: { template?: { metadata?: { labels?: Record<string, string> } } } } | undefined)?.spec?.template?.metadata?.labels;
      if (!labels) throw new Error(`the ${stack} stack runs no workload named ${name}`);
      return labels;
    };
    pods = (name) => ({ pod: labelsOf(name), namespace: ns });
    cases = flowMatrix(pods, run.cfg.source.port, run.cfg.objectStore.kind, FLINK);
  });

  afterAll(async () => {
    if (api) await removeAll(api, objects);
    if (api) await removeNodePool(api, poolLabel);
  });

  it("accepts every object the stack registers (schema, defaults, admission), with no warnings", () => {
    expect(applied.length).toBeGreaterThan(80);
    expect(applied.filter((r) => !r.accepted).map((r) => `${r.object}: ${r.message}`)).toEqual([]);
    expect(applied.filter((r) => r.warnings.length).map((r) => `${r.object}: ${r.warnings.join("; ")}`)).toEqual([]);
  });

  it("creates the namespace enforcing Pod Security restricted", async () => {
    const n = await api.core.readNamespace(ns);
    expect(n.body.metadata?.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
  });

  it("admits every pod its Deployments, StatefulSets and Jobs would start under restricted", async () => {
    const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
    const results = await admitPods(api, workloads);
    expect(results.length).toBe(workloads.length);
    expect(results.filter((r) => !r.accepted).map((r) => `${r.object}: ${r.message}`)).toEqual([]);
  });

  it("refuses a pod that runs as root: the admission check fails on a broken pod", async () => {
    const tm = objects.find((o) => o.kind === "Deployment" && o.metadata.name === `${FLINK.cdc}-taskmanager`)!;
    const broken = JSON.parse(JSON.stringify(tm)) as Manifest & { spec: { template: { spec: { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] } } } };
    broken.spec.template.spec.securityContext = { ...broken.spec.template.spec.securityContext, runAsNonRoot: false, runAsUser: 0 };
    broken.spec.template.spec.containers[0].securityContext = { ...broken.spec.template.spec.containers[0].securityContext, allowPrivilegeEscalation: true };
    const [r] = await admitPods(api, [broken]);
    expect(r.accepted).toBe(false);
    expect(r.message).toMatch(/violates PodSecurity "restricted:latest"/);
    expect(r.message).toMatch(/runAsNonRoot != false|runAsUser=0/);
    expect(r.message).toMatch(/allowPrivilegeEscalation != false/);
  });

  it("schedules every pod on the node pool the README documents: the real scheduler, replicas apart as rendered", async () => {
    const pool = nodePool(podGroups(cfg), stack as "test" | "prod");
    const claims = objects.filter((o) => o.kind === "PersistentVolumeClaim").length;
    const nodes = await createNodePool(api, pool, NODE_RESERVED, poolLabel, claims);
    const replicas = objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet").reduce((n, o) => n + ((o as { spec?: { replicas?: number } }).spec?.replicas ?? 1), 0);
    let pods: K8s.V1Pod[] = [];
    for (let i = 0; i < 180; i++) {
      pods = (await api.core.listNamespacedPod(ns)).body.items.filter((p) => !p.metadata?.ownerReferences?.some((o) => o.kind === "Job"));
      if (pods.length >= replicas && pods.every((p) => p.spec?.nodeName)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const why = (p: K8s.V1Pod) => p.status?.conditions?.find((c) => c.type === "PodScheduled")?.message ?? "not scheduled";
    expect(pods.filter((p) => !nodes.includes(p.spec?.nodeName ?? "")).map((p) => `${p.metadata?.name}: ${why(p)}`)).toEqual([]);
    expect(pods.length).toBe(replicas);
    for (const service of ["kafka", "starrocks-fe", ...cfg.flink.jobClusters.map((c) => `${c.name}-jobmanager`)]) {
      const on = pods.filter((p) => p.metadata?.labels?.["app.kubernetes.io/name"] === service).map((p) => p.spec?.nodeName);
      expect({ service, distinct: new Set(on).size }).toEqual({ service, distinct: on.length });
    }
    process.stderr.write(`\n[scheduling] ${stack}: ${pods.length} pods on ${nodes.length} nodes × ${pool.shape.cpu} CPU / ${pool.shape.memoryGiB} GiB\n`);
  });

  it("grants each ServiceAccount what its pods need and nothing more (SubjectAccessReview per verb and resource)", async () => {
    const accounts = objects.filter((o) => o.kind === "ServiceAccount");
    const owners = accounts.map((sa) => sa.metadata.labels?.["app.kubernetes.io/name"]).sort();
    const clusters = cfg.flink.jobClusters.map((c) => c.name);
    expect(owners).toEqual([...clusters.flatMap((c) => [`${c}-jobmanager`, `${c}-taskmanager`]), "flink-sql-gateway", "prometheus"].sort());
    // Pods get a token only where they call the API.
    for (const w of objects.filter((o) => WORKLOAD_KINDS.includes(o.kind))) {
      const spec = (w as unknown as { spec: { template: { spec: { serviceAccountName?: string; automountServiceAccountToken?: boolean } } } }).spec.template.spec;
      expect({ workload: w.metadata.name, token: spec.automountServiceAccountToken }).toEqual({ workload: w.metadata.name, token: !!spec.serviceAccountName });
    }
    const need = needs(ns, clusters);
    const problems: string[] = [];
    for (const sa of accounts) problems.push(...(await rbacProblems(api, { namespace: ns, name: sa.metadata.name }, need[sa.metadata.labels!["app.kubernetes.io/name"]])));
    problems.push(...(await rbacProblems(api, { namespace: ns, name: "default" }, need.default)));
    expect(problems).toEqual([]);
  });

  it("catches a role that grants nodes/proxy: the RBAC check fails on a broken role", async () => {
    const name = `broken-prometheus-${stack}`;
    const role = objects.find((o) => o.kind === "ClusterRole")! as Manifest & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    const brokenRole = { ...role, metadata: { name }, rules: [...role.rules, { apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] }] };
    for (const o of [
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: ns } },
      brokenRole,
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name }, subjects: [{ kind: "ServiceAccount", name, namespace: ns }] },
    ] as Manifest[]) {
      expect((await apply(api, o)).accepted).toBe(true);
    }
    const clusterPart = needs(ns, []).prometheus.filter((q) => !q.namespace);
    const problems = await rbacProblems(api, { namespace: ns, name }, clusterPart);
    expect(problems).toEqual([`${name} may get nodes/proxy (cluster), which its pods do not need`]);
  });

  it("allows every flow the platform needs and denies the ones that must not work (cyclonus v0.5.6)", () => {
    const policies = objects.filter((o) => o.kind === "NetworkPolicy");
    expect(cases.filter((c) => c.allowed).length).toBeGreaterThan(40);
    expect(cases.filter((c) => !c.allowed).length).toBeGreaterThan(20);
    expect(flowProblems(NETPOL_JUDGE_BIN, policies, cases)).toEqual([]);
  });

  it("catches a broken policy: the matrix fails when TaskManagers lose their data port or the JobManager is opened to all", () => {
    const policies = objects.filter((o) => o.kind === "NetworkPolicy");
    const noData = policies.map((p) => {
      if (p.metadata.name !== `${FLINK.cdc}-taskmanager-ingress`) return p;
      const q = JSON.parse(JSON.stringify(p)) as Manifest & { spec: { ingress: { ports: { port: number }[] }[] } };
      q.spec.ingress = q.spec.ingress.filter((r) => !r.ports.some((x) => x.port === FLINK_PORTS.taskData));
      return q;
    });
    expect(flowProblems(NETPOL_JUDGE_BIN, noData, cases)).toEqual(["TaskManager -> TaskManager data: expected allowed, denied on ingress"]);
    const openJm = [
      ...policies,
      { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "allow-all-to-jobmanager", namespace: ns }, spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": `${FLINK.cdc}-jobmanager` } }, policyTypes: ["Ingress"], ingress: [{}] } } as Manifest,
    ];
    // Nginx and Vector stay shut out by their own egress policies; everything beyond the namespace gets in.
    expect(flowProblems(NETPOL_JUDGE_BIN, openJm, cases)).toEqual([
      "another namespace -> Flink REST: expected denied, allowed by allow-all-to-jobmanager",
      "Internet -> Flink REST: expected denied, allowed by allow-all-to-jobmanager",
    ]);
  });
});

/**
 * The flow matrix the README's table shows: what must work and what must not, written down here
 * independently of the services' own declarations (from which the policies are rendered).
 */
function flowMatrix(pods: (name: string) => FlowEnd, mysqlPort: number, objectStore: "minio" | "s3", flink: typeof FLINK): FlowCase[] {
  const allow = (what: string, from: FlowEnd, to: FlowEnd, port: number, protocol: "TCP" | "UDP" = "TCP"): FlowCase => ({ what, flow: { from, to, port, protocol }, allowed: true });
  const deny = (what: string, from: FlowEnd, to: FlowEnd, port: number): FlowCase => ({ what, flow: { from, to, port }, allowed: false });
  // Each job on its own cluster: the CDC job's stands for one, the tracking ODS and DWS jobs' for the others.
  const jm = pods(`${flink.cdc}-jobmanager`);
  const tm = pods(`${flink.cdc}-taskmanager`);
  const trkJm = pods(`${flink.trk}-jobmanager`);
  const trkTm = pods(`${flink.trk}-taskmanager`);
  const dwsTm = pods(`${flink.dws}-taskmanager`);
  const gw = pods("flink-sql-gateway");
  const sp = pods("streampark");
  const fe = pods("starrocks-fe");
  const cn = pods("starrocks-cn");
  const internet: FlowEnd = { ip: "203.0.113.7" };
  const dns: FlowEnd = { pod: { "k8s-app": "kube-dns" }, namespace: "kube-system" };
  const otherNs: FlowEnd = { pod: { app: "intruder" }, namespace: "other-team" };
  const businessMysql: FlowEnd = { ip: "198.51.100.20" };
  const businessMysqlInCluster: FlowEnd = { pod: { app: "mysql" }, namespace: "shop" };
  const objectStoreEnd: FlowEnd = objectStore === "minio" ? pods("minio") : { ip: "52.219.170.10" };
  const objectStorePort = objectStore === "minio" ? 9000 : 443;
  const kubeApi: FlowEnd = { ip: "10.0.0.10" };

  const cases: FlowCase[] = [
    allow("TaskManager -> TaskManager data", tm, tm, FLINK_PORTS.taskData),
    allow("JobManager -> TaskManager RPC", jm, tm, FLINK_PORTS.taskRpc),
    allow("JobManager -> TaskManager metric query service", jm, tm, FLINK_PORTS.queryService),
    allow("TaskManager -> JobManager RPC", tm, jm, FLINK_PORTS.rpc),
    allow("TaskManager -> JobManager blob", tm, jm, FLINK_PORTS.blob),
    allow("SQL Gateway -> JobManager REST", gw, jm, FLINK_PORTS.rest),
    allow("SQL Gateway -> another job's JobManager REST", gw, trkJm, FLINK_PORTS.rest),
    allow("tracking jobs (TaskManager) -> Kafka", trkTm, pods("kafka"), 9092),
    allow("StreamPark -> JobManager REST", sp, jm, FLINK_PORTS.rest),
    allow("jobs (TaskManager) -> Kafka", tm, pods("kafka"), 9092),
    allow("jobs (JobManager: split enumerators) -> Kafka", jm, pods("kafka"), 9092),
    allow("jobs -> object store", tm, objectStoreEnd, objectStorePort),
    allow("JobManager -> object store (checkpoints, HA)", jm, objectStoreEnd, objectStorePort),
    allow("SQL Gateway -> object store (catalog)", gw, objectStoreEnd, objectStorePort),
    allow("PostgreSQL (WAL archive, backups) -> object store", pods("postgres"), objectStoreEnd, objectStorePort),
    allow("jobs -> PostgreSQL (Paimon catalog, quality)", tm, pods("postgres"), 5432),
    allow("SQL Gateway -> PostgreSQL (Paimon catalog)", gw, pods("postgres"), 5432),
    allow("DWS jobs -> StarRocks FE Stream Load", dwsTm, fe, STARROCKS_PORTS.feHttp),
    allow("DWS jobs -> StarRocks FE query", dwsTm, fe, STARROCKS_PORTS.feQuery),
    allow("DWS jobs -> StarRocks CN Stream Load (redirect)", dwsTm, cn, STARROCKS_PORTS.cnHttp),
    allow("jobs -> business MySQL (beyond the cluster)", tm, businessMysql, mysqlPort),
    allow("CDC enumerator (JobManager) -> business MySQL", jm, businessMysql, mysqlPort),
    allow("jobs -> business MySQL (another namespace)", tm, businessMysqlInCluster, mysqlPort),
    allow("JobManager -> Kubernetes API (HA)", jm, kubeApi, 6443),
    allow("TaskManager -> Kubernetes API (HA leader retrieval)", tm, kubeApi, 443),
    allow("StreamPark -> PostgreSQL", sp, pods("postgres"), 5432),
    allow("Internet -> Nginx /sa", internet, pods("nginx"), 8080),
    allow("another namespace (ingress controller) -> Nginx /sa", otherNs, pods("nginx"), 8080),
    allow("Nginx -> Vector", pods("nginx"), pods("vector"), 8687),
    allow("Nginx -> Vector access log (syslog over UDP)", pods("nginx"), pods("vector"), 5514, "UDP"),
    allow("Vector -> Kafka", pods("vector"), pods("kafka"), 9092),
    allow("Vector -> Redis (CORE whitelist)", pods("vector"), pods("redis"), 6379),
    allow("Grafana -> Prometheus", pods("grafana"), pods("prometheus"), 9090),
    allow("Grafana -> PostgreSQL (its database)", pods("grafana"), pods("postgres"), 5432),
    allow("Grafana -> StarRocks FE query", pods("grafana"), fe, STARROCKS_PORTS.feQuery),
    allow("Prometheus -> Alertmanager", pods("prometheus"), pods("alertmanager"), 9093),
    allow("Prometheus -> kubelets (cAdvisor)", pods("prometheus"), { ip: "10.0.1.5" }, 10250),
    allow("Alertmanager -> webhooks", pods("alertmanager"), internet, 443),
    allow("StarRocks FE -> CN heartbeat", fe, cn, STARROCKS_PORTS.cnHeartbeat),
    allow("StarRocks FE -> CN brpc", fe, cn, STARROCKS_PORTS.cnBrpc),
    allow("StarRocks CN -> FE RPC", cn, fe, STARROCKS_PORTS.feRpc),
    allow("StarRocks CN -> FE starmgr", cn, fe, STARROCKS_PORTS.feMeta),
    allow("StarRocks CN -> CN exchange", cn, cn, STARROCKS_PORTS.cnBrpc),
    allow("StarRocks FE -> FE edit log", fe, fe, STARROCKS_PORTS.feEditLog),
    allow("StarRocks -> object store", cn, objectStoreEnd, objectStorePort),
    allow("Kafka -> Kafka replication (internal listener)", pods("kafka"), pods("kafka"), 9094),
    allow("Kafka -> Kafka controller quorum", pods("kafka"), pods("kafka"), 9093),
    allow("exporters -> PostgreSQL", pods("postgres-exporter"), pods("postgres"), 5432),
    allow("exporters -> Redis", pods("redis-exporter"), pods("redis"), 6379),
    allow("exporters -> Kafka", pods("kafka-exporter"), pods("kafka"), 9092),
    allow("exporters -> Nginx status", pods("nginx-exporter"), pods("nginx"), 8081),
    allow("exporters -> Flink REST", pods(`${flink.cdc}-job-exporter`), jm, FLINK_PORTS.rest),
    // Every metrics port Prometheus scrapes.
    ...[
      [`${flink.cdc}-jobmanager`, FLINK_PORTS.metrics],
      [`${flink.cdc}-taskmanager`, FLINK_PORTS.metrics],
      ["starrocks-fe", STARROCKS_PORTS.feHttp],
      ["starrocks-cn", STARROCKS_PORTS.cnHttp],
      ["vector", 9598],
      ["grafana", 3000],
      ["alertmanager", 9093],
      ["postgres-exporter", 9187],
      ["redis-exporter", 9121],
      ["kafka-exporter", 9308],
      ["nginx-exporter", 9113],
      [`${flink.cdc}-job-exporter`, JOB_EXPORTER_PORT],
      ...(objectStore === "minio" ? [["minio", 9000]] : []),
    ].map(([svc, port]) => allow(`Prometheus -> ${svc} metrics`, pods("prometheus"), pods(svc as string), port as number)),
    // Tasks reach what they set up.
    allow("postgres-bootstrap -> PostgreSQL", pods("postgres-bootstrap"), pods("postgres"), 5432),
    allow("kafka-topics -> Kafka internal listener", pods("kafka-topics"), pods("kafka"), 9094),
    allow("kafka-access -> Kafka internal listener", pods("kafka-access"), pods("kafka"), 9094),
    allow("starrocks-bootstrap -> StarRocks FE query", pods("starrocks-bootstrap"), fe, STARROCKS_PORTS.feQuery),
    // DNS for everyone.
    ...[`${flink.cdc}-taskmanager`, "vector", "nginx", "grafana", "prometheus", "starrocks-cn", "kafka-topics"].map((svc) => allow(`${svc} -> DNS`, pods(svc), dns, 53, "UDP")),

    // What must not work.
    ...(
      [
        ["Flink REST", jm, FLINK_PORTS.rest],
        ["SQL Gateway", gw, FLINK_PORTS.sqlGateway],
        ["PostgreSQL", pods("postgres"), 5432],
        ["Redis", pods("redis"), 6379],
        ["Kafka", pods("kafka"), 9092],
      ] as [string, FlowEnd, number][]
    ).flatMap(([name, end, port]) => [
      deny(`Nginx -> ${name}`, pods("nginx"), end, port),
      deny(`another namespace -> ${name}`, otherNs, end, port),
      deny(`Internet -> ${name}`, internet, end, port),
      ...(["Redis", "Kafka"].includes(name) ? [] : [deny(`Vector -> ${name}`, pods("vector"), end, port)]),
    ]),
    deny("Grafana -> Flink REST", pods("grafana"), jm, FLINK_PORTS.rest),
    deny("Prometheus -> PostgreSQL", pods("prometheus"), pods("postgres"), 5432),
    deny("jobs -> Redis", tm, pods("redis"), 6379),
    // The super user's listener: Kafka's own pods and its tasks only.
    deny("jobs -> Kafka internal listener", tm, pods("kafka"), 9094),
    deny("Vector -> Kafka internal listener", pods("vector"), pods("kafka"), 9094),
    deny("exporter -> Kafka internal listener", pods("kafka-exporter"), pods("kafka"), 9094),
    // Where object storage is S3 (outside the cluster), Vector's raw archive needs HTTPS out, as Flink does.
    ...(objectStore === "minio" ? [deny("Vector -> Internet", pods("vector"), internet, 443)] : [allow("Vector -> S3 (HTTPS, the raw archive)", pods("vector"), internet, 443)]),
    deny("Nginx -> Internet", pods("nginx"), internet, 443),
    deny("TaskManager -> another namespace's pods on other ports", tm, otherNs, 8080),
    deny("Internet -> Grafana", internet, pods("grafana"), 3000),
    deny("Internet -> StarRocks FE query", internet, fe, STARROCKS_PORTS.feQuery),
    ...(objectStore === "minio" ? [deny("Flink -> MinIO console", tm, pods("minio"), 9001), allow("Vector -> MinIO (the raw archive)", pods("vector"), pods("minio"), 9000), deny("Vector -> MinIO console", pods("vector"), pods("minio"), 9001)] : []),
    deny("JobManager HA pod -> SQL Gateway", jm, gw, FLINK_PORTS.sqlGateway),
    // One job's cluster is not another's: no RPC, data or REST across, and each reaches only what its SQL does.
    deny("a job's TaskManager -> another job's JobManager RPC", trkTm, jm, FLINK_PORTS.rpc),
    deny("a job's TaskManager -> another job's TaskManager data", trkTm, tm, FLINK_PORTS.taskData),
    deny("a job's JobManager -> another job's TaskManager RPC", trkJm, tm, FLINK_PORTS.taskRpc),
    deny("a job's exporter -> another job's JobManager REST", pods(`${flink.trk}-job-exporter`), jm, FLINK_PORTS.rest),
    deny("tracking jobs -> business MySQL", trkTm, businessMysql, mysqlPort),
    deny("tracking ODS job -> StarRocks FE query", trkTm, fe, STARROCKS_PORTS.feQuery),
    deny("CDC job -> StarRocks FE Stream Load", tm, fe, STARROCKS_PORTS.feHttp),
  ];
  return cases;
}
