// Regenerates the docs pages derived from code: `npm run docs`. A unit test fails when they are stale.
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig, podGroups, sizingTotals, StackConfig } from "../components/config";
import { renderHostPortsTable } from "../components/config/hostPorts";
import { nodePool } from "../components/config/nodePool";
import { jobLineage, renderLineageDoc } from "../components/jobs/lineage";
import { loadJobTable } from "../components/config/jobTable";
import { renderAlertsDoc } from "../components/observability/alerts";
import { renderLayersDoc } from "./imports";
import { renderBackupPolicyDoc } from "../components/config/backupPolicy";
import { renderCollectorLimitsDoc } from "../components/config/collectorLimits";
import { renderLakehouseDoc } from "../components/config/lakehousePolicy";

export const LINEAGE_DOC = path.join(__dirname, "..", "docs", "lineage.md");
export const ALERTS_DOC = path.join(__dirname, "..", "docs", "alerts.md");
export const OPERATIONS_DOC = path.join(__dirname, "..", "docs", "operations.md");
export const README = path.join(__dirname, "..", "README.md");
export const CONFIGURATION_DOC = path.join(__dirname, "..", "docs", "configuration.md");
export const ARCHITECTURE_DOC = path.join(__dirname, "..", "docs", "architecture.md");

/** Each shipped stack file's config as `pulumi up` resolves it, with placeholder secrets (they do not size anything). */
export function shippedStacks(): Record<"dev" | "test" | "prod", StackConfig> {
  const YAML = require("yaml") as typeof import("yaml");
  const secrets = { "rtdw:sourcePassword": "placeholder-0001", "rtdw:alertWebhooks": JSON.stringify(Object.fromEntries(["ops", "business", "data", "infra"].map((t) => [t, `https://hooks.example.com/${t}`]))) };
  const one = (stack: "dev" | "test" | "prod") => {
    const file = (YAML.parse(fs.readFileSync(path.join(__dirname, "..", `Pulumi.${stack}.yaml`), "utf8")).config ?? {}) as Record<string, unknown>;
    const values = Object.fromEntries(Object.entries(file).filter(([, v]) => !(v && typeof v === "object" && "secure" in v)).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    return parseStackConfig("rtdw", stack, { ...values, ...secrets }, new Set(Object.keys(secrets)), undefined, false);
  };
  return { dev: one("dev"), test: one("test"), prod: one("prod") };
}

/** The README's sizing tables: totals, the Kubernetes node pools, and the TaskManagers the job table needs. */
export function renderSizingDoc(stacks = shippedStacks()): string {
  const totals = (Object.entries(stacks) as [string, StackConfig][]).map(([name, cfg]) => {
    const t = sizingTotals(podGroups(cfg));
    const pool = name === "dev" ? "one Docker host (budget ≤ 10 GiB, ≤ 4 cores requested)" : (() => {
      const p = nodePool(podGroups(cfg), name as "test" | "prod");
      return `${p.nodes} nodes × ${p.shape.cpu} CPU / ${p.shape.memoryGiB} GiB`;
    })();
    return `| ${name} | ${+(t.memoryMiB / 1024).toFixed(2)} GiB | ${+t.cpuRequest.toFixed(2)} cores | ${pool} |`;
  });
  const gib = (mib: number) => `${+(mib / 1024).toFixed(2)} GiB`;
  const flink = (Object.entries(stacks) as [string, StackConfig][]).map(([name, cfg]) => {
    const cs = cfg.flink.jobClusters;
    if (!cs.length) return `| ${name} | one shared: ${cfg.jobs.length} jobs, ${cfg.flink.requiredSlots} slots needed / ${cfg.flink.slots} offered | ${cfg.flink.taskManagers} × ${gib(cfg.flink.taskManagerMemoryMiB)} |`;
    const tms = cs.reduce((n, c) => n + c.taskManagers, 0);
    const tmMiB = cs.reduce((n, c) => n + c.taskManagers * c.taskManagerMemoryMiB, 0);
    const jmMiB = cs.reduce((n, c) => n + cfg.sizing.flinkJobManager.replicas * c.jobManagerMemoryMiB, 0);
    return `| ${name} | one per job: ${cs.length}, ${cs.reduce((n, c) => n + c.slots, 0)} slots, JobManagers ${gib(jmMiB)} | ${tms}, ${gib(tmMiB)} in all |`;
  });
  return [
    "| stack | memory limits | CPU requests | where it fits |",
    "|---|---|---|---|",
    ...totals,
    "",
    "| stack | Flink clusters | TaskManagers |",
    "|---|---|---|",
    ...flink,
  ].join("\n");
}

/** Each job's own cluster on the stacks that give every job one (docs/configuration.md). */
export function renderJobClustersDoc(stacks = shippedStacks()): string {
  const gib = (mib: number) => `${+(mib / 1024).toFixed(2)} GiB`;
  const perJob = (Object.entries(stacks) as [string, StackConfig][]).filter(([, cfg]) => cfg.flink.jobClusters.length);
  const rows = perJob.flatMap(([stack, cfg]) =>
    cfg.flink.jobClusters.map((c) => `| ${stack} | ${c.job} | \`${c.name}\` | ${c.parallelism} | ${c.slots} | ${c.taskManagers} × ${gib(c.taskManagerMemoryMiB)} (${c.slotsPerTaskManager} slots) | ${cfg.sizing.flinkJobManager.replicas} × ${gib(c.jobManagerMemoryMiB)} |`),
  );
  return ["| stack | job | cluster | parallelism | slots | TaskManagers | JobManagers |", "|---|---|---|---|---|---|---|", ...rows].join("\n");
}

/** Replaces what sits between `<!-- generated: name -->` and `<!-- /generated: name -->` in a document. */
export function withGenerated(doc: string, name: string, content: string): string {
  const open = `<!-- generated: ${name} -->`;
  const close = `<!-- /generated: ${name} -->`;
  const a = doc.indexOf(open);
  const b = doc.indexOf(close);
  if (a < 0 || b < a) throw new Error(`no ${open} … ${close} block`);
  return `${doc.slice(0, a + open.length)}\n${content}\n${doc.slice(b)}`;
}

if (require.main === module) {
  fs.writeFileSync(LINEAGE_DOC, renderLineageDoc(jobLineage(loadJobTable())));
  fs.writeFileSync(ALERTS_DOC, renderAlertsDoc());
  fs.writeFileSync(README, withGenerated(withGenerated(fs.readFileSync(README, "utf8"), "sizing", renderSizingDoc()), "collector-limits", renderCollectorLimitsDoc()));
  fs.writeFileSync(CONFIGURATION_DOC, withGenerated(withGenerated(withGenerated(fs.readFileSync(CONFIGURATION_DOC, "utf8"), "lakehouse", renderLakehouseDoc()), "backups", renderBackupPolicyDoc()), "job-clusters", renderJobClustersDoc()));
  fs.writeFileSync(OPERATIONS_DOC, withGenerated(fs.readFileSync(OPERATIONS_DOC, "utf8"), "dev-ports", renderHostPortsTable()));
  fs.writeFileSync(ARCHITECTURE_DOC, withGenerated(fs.readFileSync(ARCHITECTURE_DOC, "utf8"), "layers", renderLayersDoc()));
  for (const f of [LINEAGE_DOC, ALERTS_DOC, OPERATIONS_DOC, README, ARCHITECTURE_DOC, CONFIGURATION_DOC]) console.log(`wrote ${path.relative(process.cwd(), f)}`);
}
