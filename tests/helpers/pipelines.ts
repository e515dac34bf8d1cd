import * as fs from "fs";
import * as path from "path";
import * as mysql from "mysql2/promise";
import { sandboxJobManagers } from "../../sandbox/jobManagers";
import { requestJson } from "../../components/platform/http";
import { SqlGatewayClient } from "../../components/flink/sqlGateway";
import { renderSql, splitStatements, withSecrets } from "../../components/jobs/render";
import { SQL_DIR } from "../../components/config/jobTable";
import { sandboxJobEnvironment, sandboxJobSecrets } from "../../sandbox/jobs";
import { upLocalStack } from "../../sandbox/stack";
import { kafkaClient } from "./sandbox";
import { sandbox } from "./sandbox";

export { SANDBOX_CHECKPOINT_MS } from "../../sandbox/jobs";

/** The sandbox's SQL Gateway, and the JobManagers of all its session clusters as one client (sandbox/jobManagers.ts). */
export function flink() {
  const { endpoints } = sandbox();
  return { gw: new SqlGatewayClient(endpoints.flink.sqlGatewayUrl), jm: sandboxJobManagers() };
}

/**
 * Makes the named jobs run on the sandbox with the SQL as it is now, through the Pulumi engine
 * (`pulumi up --refresh --stack local`, as `npm run demo` does): kept when unchanged, upgraded with a
 * savepoint when the SQL changed (so the CDC source continues from its binlog position), resumed
 * when stopped, created when new. Returns each named job's id.
 */
export async function ensureJobs(names: string[]): Promise<Record<string, string>> {
  const { jm } = flink();
  const jobs = await upLocalStack({ quiet: true });
  const ids: Record<string, string> = {};
  for (const name of names) {
    if (!jobs[name]) throw new Error(`the local stack has no job ${name} (jobs: ${Object.keys(jobs).join(", ")})`);
    await jm.waitFor(jobs[name].jobId, ["RUNNING"], 180000);
    ids[name] = jobs[name].jobId;
  }
  return ids;
}

/** A batch session on the Paimon catalog for reading what the jobs wrote. */
export class PaimonReader {
  private session = "";
  constructor(private readonly gw = flink().gw) {}

  async open() {
    this.session = await this.gw.openSession({ "execution.runtime-mode": "batch", "table.local-time-zone": sandboxJobEnvironment().timeZone }, `reader-${Date.now()}`);
    const catalog = renderSql(fs.readFileSync(path.join(SQL_DIR, "catalog.sql"), "utf8"), sandboxJobEnvironment(), "catalog.sql");
    for (const s of splitStatements(catalog)) await this.gw.execute(this.session, withSecrets(s, sandboxJobSecrets()));
    return this;
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    // A batch read takes seconds; minutes mean it waits for slots, which the caller should hear about.
    const r = await this.gw.execute(this.session, sql, {}, 180000);
    return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i]])));
  }

  async close() {
    if (this.session) await this.gw.closeSession(this.session).catch(() => undefined);
  }
}

/** Polls `read` until `done` holds, or fails showing the last value read. */
export async function eventually<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 120000, everyMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not reached after ${timeoutMs} ms; last read: ${JSON.stringify(last)?.slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function shopConnection(database?: string) {
  const { endpoints, credentials } = sandbox();
  return mysql.createConnection({
    host: endpoints.mysql.host,
    port: endpoints.mysql.port,
    user: endpoints.mysql.user,
    password: credentials.mysql.password,
    database: database ?? endpoints.mysql.database,
    dateStrings: true,
    decimalNumbers: true,
  });
}

/** A block of ids no earlier run used (rows of earlier runs stay in the sandbox's tables). */
export function idBlock(size = 100000): number {
  return (Math.floor(Date.now() / 10) % 1_000_000_000) * size;
}

/**
 * Runs `body`; when it fails, the error also says what Flink saw: each job's state, restarts,
 * checkpoints and last exception, and how many TaskManagers were registered. A pipeline test that
 * times out on a CI machine is then explained by its own message.
 */
export async function explainingJobs<T>(jobIds: Record<string, string>, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    const { jm } = flink();
    const lines: string[] = [];
    try {
      for (const c of jm.clusters) {
        const overview = await requestJson<{ taskmanagers: number; "slots-total": number; "slots-available": number }>("GET", `${c.baseUrl}/overview`);
        lines.push(`${c.baseUrl}: taskmanagers ${overview.taskmanagers}, slots ${overview["slots-available"]}/${overview["slots-total"]} free`);
      }
      for (const [job, id] of Object.entries(jobIds)) {
        const detail = await requestJson<any>("GET", `${(await jm.clusterOf(id)).baseUrl}/jobs/${id}`).catch(() => undefined);
        const cp = await jm.checkpoints(id).catch(() => undefined);
        const cause = await jm.failureCause(id).catch(() => undefined);
        lines.push(`${job} (${id}): ${detail?.state ?? "unknown"}; checkpoints ${cp ? `${cp.completed} done, ${cp.failed} failed, restored ${cp.restored ? new Date(cp.restored.restoreTimestamp).toISOString() : "never"}` : "unknown"}; last exception: ${cause ?? "none"}`);
      }
    } catch (why) {
      lines.push(`(Flink's REST API did not answer: ${(why as Error).message})`);
    }
    (e as Error).message += `\n\nFlink at the time of the failure:\n  ${lines.join("\n  ")}`;
    throw e;
  }
}

/** An event as Vector's sensors program emits it to the tracking topic (field names from sensors.vrl). */
export function vectorEvent(distinctId: string, event: string, time: number, over: Record<string, unknown> = {}) {
  return {
    anonymous_id: null, city: "Hangzhou", country: "China", distinct_id: distinctId, event, event_id: `${distinctId}-${event}-${time}`,
    flush_time: time + 500, ip: "198.51.100.7", is_core: false, lib: "js", lib_version: "1.26.0", login_id: null, project: "shop",
    properties: event === "ViewProduct" ? { price: 12.5 } : {}, province: "Zhejiang", recv_time: time + 900, time, track_id: 1, type: "track", user_agent: "test",
    ...over,
  };
}

/** Sends `n` tracking events of the event name `probe` at 10:15 (Asia/Shanghai) of `day`, numbered from `from`; returns n. */
export async function sendProbeEvents(probe: string, day: string, from: number, n: number): Promise<number> {
  const producer = kafkaClient().producer();
  await producer.connect();
  const t0 = Date.parse(`${day}T10:15:00+08:00`);
  await producer.send({ topic: "tracking.events", messages: Array.from({ length: n }, (_, i) => ({ key: `${probe}-u${from + i}`, value: JSON.stringify(vectorEvent(`${probe}-u${from + i}`, probe, t0 + from + i)) })) });
  await producer.disconnect();
  return n;
}
