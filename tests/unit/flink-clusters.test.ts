import { jobClusterName } from "../../components/config/flinkSizing";
import { loadJobTable } from "../../components/config/jobTable";
import { parseMemoryMiB } from "../../components/config/quantities";
import { DEFAULT_FLINK_SCALING, DEFAULT_SIZING } from "../../components/config/services";
import { ofType, runStack } from "../helpers/mocks";

/**
 * The seeds' job model on the Kubernetes stacks: each row of sql/jobs.yaml on a session cluster of its
 * own, sized by its row. Read off the rendered Deployments and compared with the job table itself.
 */
const rows = loadJobTable();
const properties = (d: any): Record<string, string> => {
  const text = String(d.inputs.spec.template.spec.containers[0].env.find((e: any) => e.name === "FLINK_PROPERTIES").value);
  return Object.fromEntries(text.split("\n").map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]));
};
const memoryOf = (d: any) => parseMemoryMiB(d.inputs.spec.template.spec.containers[0].resources.limits.memory);
const roundUp = (v: number) => Math.ceil(v / 128) * 128;

describe.each(["test", "prod"] as const)("%s: a Flink session cluster per job, sized by its row", (stack) => {
  let run: Awaited<ReturnType<typeof runStack>>;
  const deployment = (name: string) => ofType(run.registered, "kubernetes:apps/v1:Deployment").find((d) => d.inputs.metadata.name === name);
  beforeAll(async () => {
    run = await runStack(stack, { imageRegistry: "registry.example.com/rtdw", namespace: `rtdw-${stack}` });
  }, 120_000);

  it("each job has its own JobManager(s) and TaskManagers with exactly its row's memory and the slots its parallelism needs", () => {
    const scale = DEFAULT_FLINK_SCALING[stack];
    for (const row of rows) {
      const name = jobClusterName(row.name);
      const jm = deployment(`${name}-jobmanager`);
      const tm = deployment(`${name}-taskmanager`);
      expect({ job: row.name, jm: !!jm, tm: !!tm }).toEqual({ job: row.name, jm: true, tm: true });
      const parallelism = Math.min(row.parallelism, scale.maxParallelism ?? row.parallelism);
      const slotsPerTm = Number(properties(tm)["taskmanager.numberOfTaskSlots"]);
      const slots = tm!.inputs.spec.replicas * slotsPerTm;
      expect({ job: row.name, slots }).toEqual({ job: row.name, slots: parallelism + scale.spareSlots });
      expect({ job: row.name, tm: memoryOf(tm) }).toEqual({ job: row.name, tm: Math.max(1024, roundUp(row.taskManagerMemoryMiB * scale.memoryScale * slotsPerTm)) });
      expect(properties(tm)["taskmanager.memory.process.size"]).toBe(`${memoryOf(tm)}m`);
      expect({ job: row.name, jm: memoryOf(jm) }).toEqual({ job: row.name, jm: Math.max(768, roundUp(row.jobManagerMemoryMiB * scale.memoryScale)) });
      expect(properties(jm)["jobmanager.memory.process.size"]).toBe(`${memoryOf(jm)}m`);
      expect(jm!.inputs.spec.replicas).toBe(DEFAULT_SIZING[stack].flinkJobManager.replicas);
      // Its TaskManagers register with its own JobManager only, and its HA metadata is its own.
      expect(properties(tm)["jobmanager.rpc.address"]).toBe(`${name}-jobmanager`);
      expect(properties(jm)["kubernetes.cluster-id"]).toBe(`rtdw-${stack}-${name.replace(/^flink-/, "")}`);
    }
    // No shared pool left: no TaskManager serves more than one job.
    expect(deployment("flink-taskmanager")).toBeUndefined();
    expect(deployment("flink-jobmanager")).toBeUndefined();
  });

  it("each FlinkSqlJob runs on its own cluster: through StreamPark, registered there under the cluster's name (the compaction jobs, which StreamPark cannot parse, through the one SQL Gateway)", () => {
    const jobs = ofType(run.registered, "pulumi-nodejs:dynamic/rtdw:FlinkSqlJob");
    expect(jobs).toHaveLength(rows.length);
    const host = (url: string) => new URL(url).hostname.split(".")[0];
    for (const j of jobs) {
      const own = `${jobClusterName(j.inputs.name)}-jobmanager`;
      const b = j.inputs.backend;
      const where =
        b.kind === "streampark"
          ? { kind: b.kind, console: host(b.url), registeredAs: b.clusterName, cluster: host(b.clusterAddress), rest: host(b.jobManagerUrl) }
          : { kind: b.kind, gateway: host(b.sqlGatewayUrl), cluster: b.cluster.address.split(".")[0], rest: host(b.jobManagerUrl) };
      const compaction = /compaction/.test(j.inputs.name);
      expect({ job: j.inputs.name, ...where }).toEqual({
        job: j.inputs.name,
        ...(compaction
          ? { kind: "sql-gateway", gateway: "flink-sql-gateway" }
          : { kind: "streampark", console: "streampark", registeredAs: `rtdw-${stack}-${jobClusterName(j.inputs.name)}` }),
        cluster: own,
        rest: own,
      });
    }
  });

  it("a job's cluster reaches what its SQL connects to: only the CDC job's reaches the business MySQL, only the DWS jobs' StarRocks", () => {
    const egress = (name: string) => JSON.stringify(ofType(run.registered, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find((p) => p.inputs.metadata.name === `${name}-egress`)?.inputs.spec.egress ?? []);
    const reaches = (job: string, what: string) => egress(`${jobClusterName(job)}-taskmanager`).includes(what);
    const sr = '"app.kubernetes.io/name":"starrocks-fe"';
    expect(rows.filter((r) => reaches(r.name, '"port":3306')).map((r) => r.name)).toEqual(["rt-dw-cdc-ingestion"]);
    expect(rows.filter((r) => reaches(r.name, sr)).map((r) => r.name).sort()).toEqual(["rt-dw-dws-aggregate", "rt-trk-dws"]);
    expect(rows.every((r) => reaches(r.name, '"app.kubernetes.io/name":"postgres"'))).toBe(true);
  });
});

describe("dev: one shared session cluster (a laptop)", () => {
  it("renders one JobManager and one TaskManager for every job", async () => {
    const run = await runStack("dev", {});
    const names = ofType(run.registered, "docker:index/container:Container").map((c) => String(c.inputs.name));
    expect(names.filter((n) => /flink-.*(jobmanager|taskmanager)/.test(n)).map((n) => n.replace(/^rtdw-dev-/, "")).sort()).toEqual(["flink-jobmanager", "flink-taskmanager"]);
  }, 120_000);
});
