import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./components/config";
import { OnExistingPlatform } from "./components/existingPlatform";
import { loadExistingPlatform } from "./components/existingPlatformFile";

// Config is read and validated before any resource exists: a wrong value fails preview here.
const config = loadConfig();

function provisioned() {
  // Loaded only for the targets that provision services: it pulls in the AWS, Docker and Kubernetes SDKs.
  const { Platform } = require("./components/stack") as typeof import("./components/stack");
  const platform = new Platform("rtdw", config);
  return {
    /** Hosts, ports, buckets and users: safe to read in `pulumi stack output`. */
    endpoints: platform.endpoints,
    /** Passwords and keys: Pulumi secrets (`pulumi stack output credentials --show-secrets`). */
    credentials: platform.credentials,
    /** What the stack reserves: total memory limit and CPU requests, every replica counted. */
    sizing: platform.sizing,
    /** Table-level lineage of every job, read from the job SQL: which tables each job reads and writes. */
    lineage: platform.lineage,
    /** Each job's Flink job id and state (none with rtdw:deploy "platform"). */
    jobs: Object.fromEntries(Object.entries(platform.jobs?.jobs ?? {}).map(([k, j]) => [k, { jobId: j.jobId, status: j.status, sqlVersion: j.sqlVersion, gate: j.gate, savepoints: j.savepointVersions }])),
  };
}

/** target "sandbox": the services run already; the stack registers the topics, the jobs and the alert rules. */
function onExisting() {
  const platform = loadExistingPlatform(config.platformFile!);
  const stack = new OnExistingPlatform("rtdw", { config, platform });
  return {
    endpoints: pulumi.output({ platform: platform.name, flink: platform.flink, prometheus: { url: platform.prometheus.url }, kafka: { bootstrapServers: platform.kafka.bootstrapServers } }),
    lineage: stack.lineage,
    jobs: Object.fromEntries(Object.entries(stack.jobs.jobs).map(([k, j]) => [k, { jobId: j.jobId, status: j.status, plannedAction: j.plannedAction, sqlVersion: j.sqlVersion, gate: j.gate, savepoints: j.savepointVersions }])),
    alertsLoaded: stack.rules.loaded,
  };
}

const outputs: Record<string, unknown> = config.target === "sandbox" ? onExisting() : provisioned();
export const { endpoints, credentials, sizing, lineage, jobs, alertsLoaded } = outputs;
