import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import type * as K8s from "@kubernetes/client-node";
import { parseStackConfig, podGroups } from "../../components/config";
import { nodePool, NODE_RESERVED } from "../../components/config/nodePool";
import { LOGS } from "../../sandbox/paths";
import { chownR, freePort, run as runCommand, start, stop } from "../../sandbox/process";
import { pgBin } from "../../sandbox/services/postgres";
import { forgetStack, pulumi, PulumiResult } from "../../sandbox/engine";
import { kubeAccess } from "../../sandbox/services/kubernetes";
import { serviceContext } from "../../sandbox/services/types";
import { connect, createNodePool, removeNodePool } from "../helpers/kube";
import { stackFileConfig } from "../helpers/config";

/**
 * test's topology (Pulumi.cluster.yaml) through the real Pulumi engine and the real pulumi-kubernetes
 * provider, on the sandbox's control plane with the real scheduler and controllers and kwok's nodes:
 * the node pool the README documents for test. `up` creates every object and the provider's await
 * logic sees each workload ready; previews of the routine day-2 changes show what the real provider
 * would do, and none replaces or deletes a claim, a StatefulSet or the namespace; a volume grows in
 * place; `destroy --exclude-protected` leaves every claim and the namespace; a rebuild with a new state
 * against them renders the passwords the volumes were initialised with (rtdw:credentialSeed), which a
 * real PostgreSQL initialised with the first ones accepts. No container runs: kwok
 * marks pods running and ready, so what happens inside them is proven elsewhere (the sandbox's services).
 */
const STACK = "cluster";
const REPO = path.resolve(__dirname, "..", "..");
const access = kubeAccess(serviceContext());
const env = { KUBECONFIG: access.kubeconfig };
const NAMESPACE = "rtdw-cluster";
const POOL_LABEL = "rtdw.test/pool=cluster-stack";

interface PreviewStep {
  readonly op: string;
  readonly urn: string;
}

/** The resource type and name of an URN (…::rtdw::<type chain>::<name>). */
const typeOf = (urn: string) => urn.split("::")[2].split("$").pop()!;
const nameOf = (urn: string) => urn.split("::")[3];

describe("test's topology through the real engine and pulumi-kubernetes on a simulated cluster (kwok nodes, real scheduler and controllers)", () => {
  const api = connect(access.kubeconfig);
  const objects = api.objects;
  const report: Record<string, unknown> = {};
  // Each command ends before the test's own timeout, so nothing of it outlives the test.
  const run = (args: string[]): Promise<PulumiResult> => pulumi(STACK, args, { cwd: REPO, quiet: true, env, timeoutMs: 480_000 });
  const ok = async (args: string[]): Promise<PulumiResult> => {
    const r = await run(args);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${(r.stdout + r.stderr).slice(-6000)}`);
    return r;
  };
  /** The steps a preview plans (only resources that change are listed) and whether it failed. */
  const plan = async (): Promise<{ steps: PreviewStep[]; failed: string | undefined }> => {
    const r = await run(["preview", "--json", "--diff"]);
    let parsed: { steps?: PreviewStep[]; diagnostics?: { severity: string; message: string }[] } = {};
    try {
      parsed = JSON.parse(r.stdout);
    } catch {
      /* not JSON when the program failed early */
    }
    const errors = (parsed.diagnostics ?? []).filter((d) => d.severity === "error").map((d) => d.message).join("\n");
    return { steps: parsed.steps ?? [], failed: r.code !== 0 ? errors || (r.stdout + r.stderr).slice(-3000) : undefined };
  };
  /** What a preview would do to each resource it touches, as "op type name". */
  const summary = (steps: readonly PreviewStep[]) => steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${typeOf(s.urn)} ${nameOf(s.urn)}`).sort();
  const destructive = (steps: readonly PreviewStep[]) =>
    steps.filter((s) => /replace|delete/.test(s.op) && /PersistentVolumeClaim|StatefulSet|Namespace|VolumeClaims/.test(typeOf(s.urn))).map((s) => `${s.op} ${typeOf(s.urn)} ${nameOf(s.urn)}`);
  /** Runs `f` with one setting changed on this machine (keys the stack file does not set): a string, or an object key as JSON. */
  const withConfig = async <T>(key: string, value: string, f: () => Promise<T>): Promise<T> => {
    const [top, ...rest] = key.split(".");
    const text = rest.length ? JSON.stringify(rest.reduceRight<unknown>((v, k) => ({ [k]: v }), /^\d+$/.test(value) ? Number(value) : value)) : value;
    await ok(["config", "set", top, text]);
    try {
      return await f();
    } finally {
      await ok(["config", "rm", top]);
    }
  };

  const cfg = parseStackConfig("rtdw", STACK, { ...Object.fromEntries(Object.entries(stackFileConfig(STACK)).map(([k, v]) => [`rtdw:${k}`, v])), "rtdw:sourcePassword": "x".repeat(16), "rtdw:credentialSeed": "y".repeat(32) }, new Set(["rtdw:sourcePassword", "rtdw:credentialSeed"]));
  const pool = nodePool(podGroups(cfg), "test");
  let nodeNames: string[] = [];

  const runId = Date.now().toString(36);
  /** The PostgreSQL superuser's password as the deployed StatefulSet's pods receive it (from its Secret). */
  const postgresPassword = async (): Promise<string> => {
    const sts = (await objects.read({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "postgres", namespace: NAMESPACE } })).body as unknown as K8s.V1StatefulSet;
    const ref = sts.spec!.template.spec!.containers[0].env!.find((e) => e.name === "POSTGRES_PASSWORD")!.valueFrom!.secretKeyRef!;
    const secret = (await api.core.readNamespacedSecret(ref.name!, NAMESPACE)).body;
    return Buffer.from(secret.data![ref.key], "base64").toString("utf8");
  };
  let initialisedWith = "";
  /** Every password the stack hands out (PostgreSQL's users, StarRocks root, Grafana's admin, Kafka's users, …). */
  const credentialsOutput = async () => (await ok(["stack", "output", "credentials", "--show-secrets", "--json"])).stdout;
  let credentialsBefore = "";
  const clean = async () => {
    await api.core.deleteNamespace(NAMESPACE).catch(() => undefined);
    for (let i = 0; i < 300; i++) {
      if (!(await api.core.readNamespace(NAMESPACE).then(() => true, () => false))) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await removeNodePool(api, POOL_LABEL);
    await forgetStack(STACK, REPO);
  };

  beforeAll(async () => {
    await clean();
    // The pool the README documents for test (nodes of the documented shape, less what a kubelet keeps),
    // the cluster's default storage class (stack file names none) and a pre-made volume per claim.
    nodeNames = await createNodePool(api, pool, NODE_RESERVED, POOL_LABEL, Object.values(cfg.sizing).reduce((n, sz) => n + sz.replicas, 0));
    await ok(["config", "set", "--secret", "sourcePassword", "x".repeat(16)]);
    await ok(["config", "set", "--secret", "credentialSeed", "y".repeat(32)]);
  });

  afterAll(async () => {
    fs.writeFileSync(path.join(LOGS, "cluster-stack.json"), JSON.stringify(report, null, 2));
    process.stderr.write(`\n[cluster stack] ${JSON.stringify(report, null, 1)}\n`);
    await clean();
  });

  it("up creates every object; each pod is scheduled on the documented pool and ready, each claim bound", async () => {
    const up = await ok(["up", "--yes", "--skip-preview"]);
    report.upSeconds = Math.round(up.seconds);
    const pods = (await api.core.listNamespacedPod(NAMESPACE)).body.items;
    const ready = (p: K8s.V1Pod) => p.status?.phase === "Succeeded" || p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    expect(pods.length).toBeGreaterThanOrEqual(pool.pods.length);
    expect(pods.filter((p) => !nodeNames.includes(p.spec?.nodeName ?? "") || !ready(p)).map((p) => `${p.metadata?.name}: ${p.spec?.nodeName ?? "unscheduled"} ${p.status?.phase}`)).toEqual([]);
    // Quorum members on different nodes (required anti-affinity, as rendered): no node holds a majority.
    for (const service of ["kafka", "starrocks-fe"]) {
      const nodes = pods.filter((p) => p.metadata?.labels?.["app.kubernetes.io/name"] === service).map((p) => p.spec?.nodeName);
      expect({ service, distinct: new Set(nodes).size }).toEqual({ service, distinct: nodes.length });
    }
    const claims = (await api.core.listNamespacedPersistentVolumeClaim(NAMESPACE)).body.items;
    expect(claims.length).toBeGreaterThan(10);
    expect(claims.filter((c) => c.status?.phase !== "Bound").map((c) => c.metadata?.name)).toEqual([]);
    report.pods = pods.length;
    report.claims = claims.length;
    report.nodes = `${pool.nodes} × ${pool.shape.cpu} CPU / ${pool.shape.memoryGiB} GiB`;
  });

  it("a preview right after plans nothing", async () => {
    const p = await plan();
    expect(p.failed).toBeUndefined();
    expect(summary(p.steps)).toEqual([]);
  });

  it("previews each routine change as an in-place update, never replacing or deleting a claim, a StatefulSet or the namespace", async () => {
    const changes: Record<string, string[]> = {};
    const routine: [string, string][] = [
      ["volumes.kafka", `${cfg.volumesGiB.kafka + 10}Gi`],
      ["sizing.nginx.replicas", "4"],
      ["sizing.kafka.memory", "2Gi"],
      ["images.grafana", "grafana/grafana:12.1.2"],
    ];
    for (const [key, value] of routine) {
      const p = await withConfig(key, value, plan);
      expect({ key, failed: p.failed }).toEqual({ key, failed: undefined });
      expect({ key, destructive: destructive(p.steps) }).toEqual({ key, destructive: [] });
      changes[`${key}=${value}`] = summary(p.steps);
    }
    report.previews = changes;
    expect(changes[`volumes.kafka=${cfg.volumesGiB.kafka + 10}Gi`]).toEqual(
      expect.arrayContaining(["update kubernetes:core/v1:PersistentVolumeClaim data-kafka-0-pvc", "update pulumi-nodejs:dynamic/rtdw:VolumeClaims kafka-claims-guard"]),
    );
    expect(changes[`volumes.kafka=${cfg.volumesGiB.kafka + 10}Gi`].filter((s) => s.includes("StatefulSet"))).toEqual([]);
    expect(changes["sizing.nginx.replicas=4"]).toContain("update kubernetes:apps/v1:Deployment nginx-deploy");
  });

  it("refuses at preview a volume shrink and a storage class change, naming the key and the claim", async () => {
    const shrink = await withConfig("volumes.kafka", `${Math.max(1, cfg.volumesGiB.kafka - 5)}Gi`, plan);
    expect(shrink.failed).toMatch(/rtdw:volumes\.kafka: claim data-kafka-0 holds \d+Gi; \d+Gi would shrink it/);
    const moved = await withConfig("storageClass", "fast-ssd", plan);
    // The engine stops at the first guard that refuses; every stateful service has one.
    expect(moved.failed).toMatch(/rtdw:storageClass: claim [\w-]+-0 is on storage class the cluster's default; moving it to "fast-ssd" would delete the claim and its data/);
    report.refusals = { shrink: shrink.failed?.split("\n").find((l) => l.includes("rtdw:volumes")), storageClass: moved.failed?.split("\n").find((l) => l.includes("rtdw:storageClass")) };
  });

  it("grows a claim in place with up: same claim, larger request, the StatefulSet untouched", async () => {
    const before = (await api.core.readNamespacedPersistentVolumeClaim("data-kafka-0", NAMESPACE)).body;
    const sts = (await objects.read({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "kafka", namespace: NAMESPACE } })).body;
    await withConfig("volumes.kafka", `${cfg.volumesGiB.kafka + 10}Gi`, () => ok(["up", "--yes", "--skip-preview"]));
    const after = (await api.core.readNamespacedPersistentVolumeClaim("data-kafka-0", NAMESPACE)).body;
    expect(after.metadata?.uid).toBe(before.metadata?.uid);
    expect(after.spec?.resources?.requests?.storage).toBe(`${cfg.volumesGiB.kafka + 10}Gi`);
    const stsAfter = (await objects.read({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "kafka", namespace: NAMESPACE } })).body;
    expect(stsAfter.metadata?.uid).toBe(sts.metadata?.uid);
  });

  it("destroy --exclude-protected removes the workloads and leaves every claim and the namespace", async () => {
    initialisedWith = await postgresPassword();
    credentialsBefore = await credentialsOutput();
    const claims = (await api.core.listNamespacedPersistentVolumeClaim(NAMESPACE)).body.items.map((c) => c.metadata!.uid);
    const d = await ok(["destroy", "--yes", "--exclude-protected"]);
    report.destroySeconds = Math.round(d.seconds);
    expect((await api.core.readNamespace(NAMESPACE)).body.status?.phase).toBe("Active");
    expect((await api.core.listNamespacedPersistentVolumeClaim(NAMESPACE)).body.items.map((c) => c.metadata!.uid).sort()).toEqual(claims.sort());
    expect((await objects.list("apps/v1", "StatefulSet", NAMESPACE)).body.items).toEqual([]);
  });

  it("a rebuild with a new state against the surviving claims renders the passwords the volumes were initialised with, and PostgreSQL takes them", async () => {
    const claims = (await api.core.listNamespacedPersistentVolumeClaim(NAMESPACE)).body.items.map((c) => c.metadata!.uid).sort();
    // The state is lost; the stack file (its encrypted seed, committed with the project) is not.
    await forgetStack(STACK, REPO);
    await ok(["config", "set", "--secret", "sourcePassword", "x".repeat(16)]);
    await ok(["config", "set", "--secret", "credentialSeed", "y".repeat(32)]);
    // A config that has forgotten the growth would shrink the grown claims: with no state, the guard
    // cannot see it, and the API server refuses the apply (a field conflict), so nothing shrinks.
    const forgotten = await run(["up", "--yes", "--skip-preview"]);
    expect(forgotten.code).not.toBe(0);
    expect(forgotten.stdout + forgotten.stderr).toMatch(/data-kafka-\d-pvc[\s\S]*Server-Side Apply field conflict/);
    const grown = `${cfg.volumesGiB.kafka + 10}Gi`;
    expect((await api.core.readNamespacedPersistentVolumeClaim("data-kafka-0", NAMESPACE)).body.spec?.resources?.requests?.storage).toBe(grown);
    // With the config the stack had (the growth kept), the rebuild completes.
    const up = await withConfig("volumes.kafka", grown, () => ok(["up", "--yes", "--skip-preview"]));
    report.rebuildSeconds = Math.round(up.seconds);
    expect((await api.core.listNamespacedPersistentVolumeClaim(NAMESPACE)).body.items.map((c) => c.metadata!.uid).sort()).toEqual(claims);
    const rendered = await postgresPassword();
    expect(rendered).toBe(initialisedWith);
    // Not only PostgreSQL's: every credential of the new state is the one the first state had.
    expect(JSON.parse(await credentialsOutput())).toEqual(JSON.parse(credentialsBefore));
    // A real PostgreSQL initialised with the first deployment's password, as the retained volume was,
    // and a login with what the rebuilt stack gives its clients.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-rebuild-pg-"));
    const data = path.join(dir, "data");
    const pwfile = path.join(dir, "pw");
    fs.writeFileSync(pwfile, initialisedWith, { mode: 0o600 });
    const port = await freePort();
    const asPostgres = process.getuid?.() === 0 ? { user: "postgres" } : {};
    if (asPostgres.user) chownR(dir, "postgres");
    runCommand(pgBin("initdb"), ["-D", data, "-U", "rtdw_admin", `--pwfile=${pwfile}`, "--auth-host=scram-sha-256", "--auth-local=peer"], asPostgres);
    const name = `rebuild-pg-${runId}`;
    start({ name, command: pgBin("postgres"), args: ["-D", data, "-c", `port=${port}`, "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`], ...asPostgres });
    try {
      let version = "";
      for (let i = 0; i < 60 && !version; i++) {
        const c = new Client({ host: "127.0.0.1", port, user: "rtdw_admin", password: rendered, database: "postgres", connectionTimeoutMillis: 2000 });
        version = await c.connect().then(async () => (await c.query("SHOW server_version")).rows[0].server_version as string, (e: Error) => (/password authentication failed/.test(e.message) ? Promise.reject(e) : ""));
        await c.end().catch(() => undefined);
        if (!version) await new Promise((r) => setTimeout(r, 500));
      }
      expect(version).toMatch(/^\d+/);
      const wrong = new Client({ host: "127.0.0.1", port, user: "rtdw_admin", password: `${rendered}x`, database: "postgres" });
      await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
      await wrong.end().catch(() => undefined);
    } finally {
      await stop(name, { signal: "SIGINT", graceMs: 10000, last: "SIGQUIT" });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
