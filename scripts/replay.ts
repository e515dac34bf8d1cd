/**
 * `npm run replay -- --stack local --from 2026-12-06T10 [--to 2026-12-06T12] [--dry-run] [--id <id>]`:
 * reads the raw archive's hours [from, to) (UTC receive time, the archive's layout) again through the
 * collector's live parser and puts into ODS the events ODS lacks (components/pipelines/replay.ts).
 *   1. each archive object of the range is read (gunzip, line by line); its lines are grouped into
 *      the requests they came from, and each request is sent to the collector again, marked as this
 *      replay (retried with backoff; the collector writes it to the replay topic, not to the live one);
 *   2. once the replay topic holds every event sent, a batch job derived from rt-trk-ods's SQL inserts
 *      into each ODS table the events whose id it does not have. `--dry-run` stops before the insert and
 *      says what it would add. Running the same range again adds nothing.
 * Prints the counts and `REPLAY_REPORT <json>`.
 */
import * as readline from "readline";
import * as zlib from "zlib";
import { loadJobTable } from "../components/config/jobTable";
import { RAW_ARCHIVE_PREFIX } from "../components/collector/vector";
import { DEFAULT_RETRY } from "../components/platform/http";
import { JobManagerClient } from "../components/flink/jobManager";
import { SqlGatewayClient } from "../components/flink/sqlGateway";
import { JobEnvironment, SecretName, withSecrets } from "../components/jobs/render";
import { ArchiveLine, rebuildRequests, REPLAY_CLIENT, REPLAY_ID, REPLAYED_JOB, replayJobScript, replayPartitions, replayPlanSql, replayProgressSql, ReplayRequest } from "../components/pipelines/replay";

export interface ReplayTarget {
  /** The collector's own HTTP source (Vector's port, not Nginx: Nginx clears the replay header). */
  readonly collectorUrl: string;
  readonly sqlGatewayUrl: string;
  readonly flinkRestUrl: string;
  readonly archive: { readonly endpoint: string; readonly region: string; readonly bucket: string; readonly accessKey: string; readonly secretKey: string };
  /** The job environment rendered for REPLAY_CLIENT, and the secrets its SQL names. */
  readonly env: JobEnvironment;
  readonly secrets: Partial<Record<SecretName, string>>;
}

export interface ReplayReport {
  readonly replayId: string;
  readonly from: string;
  readonly to: string;
  readonly objects: number;
  readonly archivedLines: number;
  readonly duplicateLines: number;
  readonly malformedLines: number;
  /** Objects that are not gzipped NDJSON (or end early), with the reason: their readable lines are replayed. */
  readonly unreadableObjects: readonly string[];
  readonly requests: number;
  /** Events sent (archived lines once each, and placeholders for the places the archive lacks). */
  readonly eventsSent: number;
  readonly placeholders: number;
  /** This replay's records in the replay topic when the job ran. */
  readonly inTopic: number;
  /** Events the collector's parser rejected this time, by reason (placeholders among them). */
  readonly rejected: Readonly<Record<string, number>>;
  /** Per ODS table: the replay's rows, and those the table lacked (what was inserted, or would be with --dry-run). */
  readonly tables: Readonly<Record<string, { readonly replayed: number; readonly absent: number }>>;
  readonly dryRun: boolean;
  readonly jobId?: string;
  readonly seconds: number;
}

const log = (m: string) => process.stderr.write(`[replay] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** UTC hours from a `YYYY-MM-DDTHH` or a full ISO time; the archive is laid out by UTC hour. */
export function parseHour(s: string, what: string): number {
  const t = /^\d{4}-\d{2}-\d{2}T\d{2}$/.test(s) ? Date.parse(`${s}:00:00Z`) : Date.parse(s);
  if (!Number.isFinite(t)) throw new Error(`${what} "${s}": expected a UTC hour like 2026-12-06T10 or an ISO time`);
  return t;
}

/** The archive's hour prefixes covering [from, to). */
export function hourPrefixes(fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  for (let h = Math.floor(fromMs / 3_600_000) * 3_600_000; h < toMs; h += 3_600_000) {
    const d = new Date(h).toISOString();
    out.push(RAW_ARCHIVE_PREFIX.replace("%Y-%m-%d", d.slice(0, 10)).replace("%H", d.slice(11, 13)));
  }
  return out;
}

async function send(collectorUrl: string, r: ReplayRequest): Promise<void> {
  const { httpPost } = await import("../sandbox/services/clients");
  const waits = [500, 1000, 2000, 4000, 8000];
  for (let attempt = 0; ; attempt++) {
    let why: string;
    try {
      const res = await httpPost(`${collectorUrl.replace(/\/$/, "")}/?${r.query}`, r.body, r.headers, 30_000);
      if (res.status === 200) return;
      why = `answered ${res.status}`;
    } catch (e) {
      why = (e as Error).message;
    }
    if (attempt >= waits.length) throw new Error(`the collector at ${collectorUrl} ${why} for request ${r.requestId}, ${attempt + 1} attempts; nothing was inserted (run the replay again)`);
    await sleep(waits[attempt]);
  }
}

export async function replay(t: ReplayTarget, o: { readonly fromMs: number; readonly toMs: number; readonly replayId: string; readonly dryRun: boolean; readonly topicTimeoutMs?: number }): Promise<ReplayReport> {
  const t0 = Date.now();
  if (!(o.toMs > o.fromMs)) throw new Error("--to must be after --from");
  if (!REPLAY_ID.test(o.replayId)) throw new Error(`--id "${o.replayId}": expected ${REPLAY_ID}`);
  const Minio = await import("minio");
  const u = new URL(t.archive.endpoint);
  const s3 = new Minio.Client({ endPoint: u.hostname, port: u.port ? Number(u.port) : undefined, useSSL: u.protocol === "https:", accessKey: t.archive.accessKey, secretKey: t.archive.secretKey, region: t.archive.region });

  // 1. Archive -> requests -> collector. A request's lines are in one object or in consecutive ones
  // (a batch cut between them): a request not seen in the object just read is complete and is sent.
  const counts = { objects: 0, archivedLines: 0, duplicateLines: 0, malformedLines: 0, requests: 0, eventsSent: 0, placeholders: 0 };
  let pending = new Map<string, ArchiveLine[]>();
  const unreadableObjects: string[] = [];
  const flush = async (groups: ArchiveLine[][]) => {
    const { requests, duplicates, malformed } = rebuildRequests(groups.flat(), o.replayId);
    counts.duplicateLines += duplicates;
    counts.malformedLines += malformed;
    for (let i = 0; i < requests.length; i += 4) {
      const batch = requests.slice(i, i + 4);
      await Promise.all(batch.map((r) => send(t.collectorUrl, r)));
      for (const r of batch) {
        counts.requests++;
        counts.eventsSent += r.events;
        counts.placeholders += r.placeholders;
      }
    }
  };
  async function readLines(lines: readline.Interface, seen: Map<string, ArchiveLine[]>) {
    for await (const text of lines) {
      if (!text.trim()) continue;
      let l: ArchiveLine;
      try {
        l = JSON.parse(text) as ArchiveLine;
      } catch {
        counts.malformedLines++;
        continue;
      }
      if (!(l.recv_time >= o.fromMs && l.recv_time < o.toMs)) continue;
      counts.archivedLines++;
      const id = String(l.event_id).replace(/-\d+$/, "");
      const group = pending.get(id) ?? seen.get(id) ?? [];
      pending.delete(id);
      group.push(l);
      seen.set(id, group);
    }
  }
  for (const prefix of hourPrefixes(o.fromMs, o.toMs)) {
    const keys = await new Promise<string[]>((resolve, reject) => {
      const names: string[] = [];
      s3.listObjectsV2(t.archive.bucket, prefix, true).on("data", (x) => x.name && names.push(x.name)).on("error", reject).on("end", () => resolve(names.sort()));
    });
    for (const key of keys) {
      counts.objects++;
      const seen = new Map<string, ArchiveLine[]>();
      const input = (await s3.getObject(t.archive.bucket, key)).pipe(zlib.createGunzip());
      const lines = readline.createInterface({ input, crlfDelay: Infinity });
      const broken = new Promise<never>((_, reject) => input.on("error", reject));
      broken.catch(() => undefined);
      try {
        await Promise.race([readLines(lines, seen), broken]);
      } catch (e) {
        // Not gzip, or cut short: what it held up to there is replayed, the object named in the report.
        unreadableObjects.push(`${key}: ${(e as Error).message}`);
        log(`${key} cannot be read to its end (${(e as Error).message}); replaying the lines before that`);
        lines.close();
      }
      await flush([...pending.values()]);
      pending = seen;
    }
  }
  await flush([...pending.values()]);
  log(`${counts.archivedLines} archived events in ${counts.objects} objects -> ${counts.requests} requests sent to the collector as replay ${o.replayId}`);

  // 2. The batch job, derived from rt-trk-ods's SQL, in a session of its own.
  const job = loadJobTable().find((j) => j.name === REPLAYED_JOB);
  if (!job) throw new Error(`sql/jobs.yaml has no ${REPLAYED_JOB}: the replay runs its SQL`);
  const { dtFrom, dtTo } = replayPartitions(o.fromMs, o.toMs);
  const r = replayJobScript(job, t.env, { replayId: o.replayId, dtFrom, dtTo });
  const gw = new SqlGatewayClient(t.sqlGatewayUrl, DEFAULT_RETRY);
  const session = await gw.openSession({ ...r.script.config }, r.script.job);
  try {
    const run = async (sql: string) => (await gw.execute(session, withSecrets(sql, t.secrets), {}, 300_000)).rows;
    for (const stmt of r.script.statements.slice(0, -1)) await run(stmt);

    // Vector answered each request once the events were in its sink's buffer: wait until Kafka has them.
    const deadline = Date.now() + (o.topicTimeoutMs ?? 180_000);
    let inTopic = 0;
    let rejected: Record<string, number> = {};
    for (let wait = 1000; ; wait = Math.min(wait * 2, 15_000)) {
      const rows = await run(replayProgressSql(r, o.replayId));
      inTopic = rows.reduce((a, row) => a + Number(row[1]), 0);
      rejected = Object.fromEntries(rows.filter((row) => row[0] !== "").map((row) => [String(row[0]), Number(row[1])]));
      if (inTopic >= counts.eventsSent) break;
      if (Date.now() > deadline) throw new Error(`${inTopic} of the ${counts.eventsSent} events sent reached the replay topic within ${Math.round((o.topicTimeoutMs ?? 180_000) / 1000)} s (is the collector's replay sink delivering? its metrics: component_id="replay_kafka"); nothing was inserted (run the replay again)`);
      await sleep(wait);
    }

    const tables: Record<string, { replayed: number; absent: number }> = {};
    for (const row of await run(replayPlanSql(r, dtFrom, dtTo))) {
      const e = (tables[String(row[0])] ??= { replayed: 0, absent: 0 });
      e[String(row[1]) as "replayed" | "absent"] = Number(row[2]);
    }
    let jobId: string | undefined;
    if (!o.dryRun) {
      jobId = (await gw.execute(session, withSecrets(r.script.statements[r.script.statements.length - 1], t.secrets))).jobId;
      if (!jobId) throw new Error("the replay's INSERT submitted no job");
      await new JobManagerClient(t.flinkRestUrl).waitFor(jobId, ["FINISHED"], 30 * 60_000);
    }
    return { replayId: o.replayId, from: new Date(o.fromMs).toISOString(), to: new Date(o.toMs).toISOString(), ...counts, unreadableObjects, inTopic, rejected, tables, dryRun: o.dryRun, jobId, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await gw.closeSession(session).catch(() => undefined);
  }
}

/** The `local` stack's target: the sandbox's collector (the Vector stand-in), gateway and archive. */
async function localTarget(): Promise<ReplayTarget> {
  const { describe } = await import("../sandbox");
  const { ports } = await import("../sandbox/paths");
  const { BUCKETS } = await import("../sandbox/services/types");
  const { sandboxJobEnvironment, sandboxJobSecrets } = await import("../sandbox/jobs");
  const { endpoints: e, credentials: c } = describe();
  return {
    collectorUrl: `http://127.0.0.1:${ports().collector}`,
    sqlGatewayUrl: e.flink.sqlGatewayUrl,
    flinkRestUrl: e.flink.restUrl,
    archive: { endpoint: e.objectStore.endpoint, region: e.objectStore.region, bucket: BUCKETS.archive, accessKey: c.objectStore.accessKey, secretKey: c.objectStore.secretKey },
    env: sandboxJobEnvironment(undefined, REPLAY_CLIENT),
    secrets: sandboxJobSecrets(REPLAY_CLIENT),
  };
}

const USAGE = "usage: npm run replay -- --stack local --from <UTC hour, e.g. 2026-12-06T10> [--to <UTC hour>] [--dry-run] [--id <id>]";

async function main(argv: string[]): Promise<number> {
  let stack: string | undefined;
  let from: string | undefined;
  let to: string | undefined;
  let id: string | undefined;
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--stack" || a === "-s") stack = argv[++i];
    else if (a === "--from") from = argv[++i];
    else if (a === "--to") to = argv[++i];
    else if (a === "--id") id = argv[++i];
    else if (a === "--dry-run") dryRun = true;
    else throw new Error(`unknown argument ${a}; ${USAGE}`);
  }
  if (!stack || !from) throw new Error(USAGE);
  if (stack !== "local") {
    throw new Error(`the replay reaches the collector's own port, the SQL Gateway and the archive bucket directly; it runs for the local stack (the sandbox). For ${stack}, see docs/operations.md ("Replaying the raw archive")`);
  }
  const fromMs = parseHour(from, "--from");
  const toMs = to ? parseHour(to, "--to") : fromMs + 3_600_000;
  const replayId = id ?? `r${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}`;
  const r = await replay(await localTarget(), { fromMs, toMs, replayId, dryRun });
  console.log(`\nreplay ${r.replayId} of ${r.from} .. ${r.to}${r.dryRun ? " (dry run: nothing inserted)" : ""}, ${r.seconds.toFixed(0)} s`);
  console.log(`  archive: ${r.archivedLines} events in ${r.objects} objects (${r.duplicateLines} seen twice, ${r.malformedLines} unreadable) -> ${r.requests} requests, ${r.eventsSent} events (${r.placeholders} places the archive lacks)`);
  for (const o of r.unreadableObjects) console.log(`  unreadable object: ${o}`);
  for (const [reason, n] of Object.entries(r.rejected)) console.log(`  rejected by the parser: ${n} ${reason}`);
  for (const [table, n] of Object.entries(r.tables)) console.log(`  ${table.padEnd(26)} ${n.replayed} replayed, ${n.absent} ${r.dryRun ? "would be inserted" : "inserted"} (the rest it had)`);
  console.log(`REPLAY_REPORT ${JSON.stringify(r)}`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`replay: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
