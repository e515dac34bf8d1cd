import { REPLAY_HEADER } from "../collector/vector";
import { JobSpec, readJobSql } from "../config/jobTable";
import { JobEnvironment, KAFKA_RAW_COLUMNS } from "../jobs/render";
import { JobScript, jobScript } from "../jobs/script";

/**
 * The replay of the raw archive: a time range of archived events is read again through the collector's
 * live parser and put into ODS, only the events ODS lacks (idempotent by event id).
 *
 *   archive (raw/dt=/hr=) --requests rebuilt--> Vector (marked X-Rtdw-Replay) --> tracking.replay
 *     --> batch job: rt-trk-ods's own SQL over that topic --> INSERT the ODS rows whose event id is absent
 *
 * The batch job is derived from the ODS job's SQL file, not written a second time: its Kafka source is
 * swapped for a bounded read of the replay topic, its statement set keeps the INSERTs into ODS tables
 * (the rejects of a replay are reported, not stored twice) and each of them skips the ids present.
 */

/** The topic the collector writes a replay's events to. */
export const REPLAY_TOPIC = "tracking.replay";
/** The replay job's Kafka user and consumer group: it reads the replay topic and nothing else. */
export const REPLAY_CLIENT = "rt-trk-replay";
/** The topic the live path reads, which the replay stands in for. */
export const LIVE_TOPIC = "tracking.events";
/** The job whose SQL the replay runs. */
export const REPLAYED_JOB = "rt-trk-ods";
/** A replay's id: what the collector accepts in the replay header (sensors.vrl). */
export const REPLAY_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Events the collector refuses relative to their arrival (sensors.vrl: more than 7 days before, more
 * than 1 hour after): a replayed event's dt lies within these of its receive time.
 */
const OLDEST_EVENT_MS = 7 * 86_400_000;
const NEWEST_EVENT_MS = 3_600_000;

/** One line of the raw archive, as ARCHIVE_RECORD_VRL writes it. */
export interface ArchiveLine {
  readonly event_id: string;
  readonly recv_time: number;
  readonly ip?: string | null;
  readonly user_agent?: string | null;
  readonly project?: string | null;
  /** The record's own JSON, as the collector received it. */
  readonly record: string;
}

/** A request rebuilt from the archive, to be sent to the collector again. */
export interface ReplayRequest {
  readonly requestId: string;
  /** The query string (`project=…`). */
  readonly query: string;
  /** The form body (`data_list=<base64 of the JSON array>&gzip=0`). */
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Events the collector will make of it (archived ones and placeholders). */
  readonly events: number;
  /** Places with no archived line (the archive dropped it, or it is in another object): sent as null, rejected. */
  readonly placeholders: number;
}

const EVENT_ID = /^(.+)-(\d+)$/;

/**
 * Groups archive lines into the requests they came from (an event id is the request's id and the
 * event's place in its batch) and rebuilds each: its records in their places, so the collector gives
 * every event the id it had. A place with no line is sent as `null` (the collector rejects it, so it
 * keeps the others' places); a line seen twice is sent once.
 */
export function rebuildRequests(lines: Iterable<ArchiveLine>, replayId: string): { requests: ReplayRequest[]; duplicates: number; malformed: number } {
  if (!REPLAY_ID.test(replayId)) throw new Error(`replay id "${replayId}": expected ${REPLAY_ID} (the collector ignores any other)`);
  const groups = new Map<string, { first: ArchiveLine; records: Map<number, string> }>();
  let duplicates = 0;
  let malformed = 0;
  for (const l of lines) {
    const m = typeof l.event_id === "string" ? EVENT_ID.exec(l.event_id) : null;
    if (!m || typeof l.record !== "string" || !Number.isFinite(l.recv_time)) {
      malformed++;
      continue;
    }
    const g = groups.get(m[1]) ?? { first: l, records: new Map<number, string>() };
    groups.set(m[1], g);
    const place = Number(m[2]);
    if (g.records.has(place)) duplicates++;
    else g.records.set(place, l.record);
  }
  const requests = [...groups].map(([requestId, g]): ReplayRequest => {
    const size = Math.max(...g.records.keys()) + 1;
    const records = Array.from({ length: size }, (_, i) => g.records.get(i) ?? "null");
    const l = g.first;
    const headers: Record<string, string> = {
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Request-Id": requestId,
      // Half a millisecond past the archived time: the collector multiplies seconds by 1000 in floating
      // point and truncates, so this reads back as exactly the archived receive time.
      "X-Request-Time": ((l.recv_time + 0.5) / 1000).toFixed(4),
      [REPLAY_HEADER]: replayId,
    };
    if (l.ip) headers["X-Real-IP"] = l.ip;
    if (l.user_agent) headers["User-Agent"] = l.user_agent;
    return {
      requestId,
      query: new URLSearchParams({ project: l.project ?? "default" }).toString(),
      // The records' own text, joined: parsing and printing them again could change a number.
      body: new URLSearchParams({ data_list: Buffer.from(`[${records.join(",")}]`).toString("base64"), gzip: "0" }).toString(),
      headers,
      events: size,
      placeholders: size - g.records.size,
    };
  });
  return { requests, duplicates, malformed };
}

/** The business-time partitions a replay of receive times [from, to) can touch, with a day's margin for the time zone. */
export function replayPartitions(fromMs: number, toMs: number): { dtFrom: string; dtTo: string } {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { dtFrom: day(fromMs - OLDEST_EVENT_MS - 86_400_000), dtTo: day(toMs + NEWEST_EVENT_MS + 86_400_000) };
}

export interface ReplayScript {
  /** The batch session's statements; the last one submits the INSERTs. */
  readonly script: JobScript;
  /** The bounded table over the replay topic (every record of every replay). */
  readonly topicTable: string;
  /** The view rt-trk-ods's SQL reads: this replay's valid events, each id once. */
  readonly eventsView: string;
  /** The ODS tables the replay inserts into, each with the query whose rows it inserts (before the id check). */
  readonly inserts: readonly { readonly table: string; readonly query: string }[];
  /** The view of rows ODS would get (rt-trk-ods's accepted rows). */
  readonly acceptedView: string;
}

/**
 * The replay job: rt-trk-ods's SQL (job row and file) with its source swapped for a bounded read of
 * the replay topic filtered to `replayId`, and its statement set cut to the ODS INSERTs, each of which
 * skips the event ids the table has in [dtFrom, dtTo]. `env` must be rendered for REPLAY_CLIENT.
 */
export function replayJobScript(job: JobSpec, env: JobEnvironment, o: { readonly replayId: string; readonly dtFrom: string; readonly dtTo: string }): ReplayScript {
  if (job.name !== REPLAYED_JOB) throw new Error(`the replay runs ${REPLAYED_JOB}'s SQL, not ${job.name}'s`);
  if (env.kafka.user !== REPLAY_CLIENT) throw new Error(`the replay job connects to Kafka as ${REPLAY_CLIENT}, not ${env.kafka.user}`);
  if (!REPLAY_ID.test(o.replayId)) throw new Error(`replay id "${o.replayId}": expected ${REPLAY_ID}`);
  for (const d of [o.dtFrom, o.dtTo]) if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new Error(`partition bound "${d}": expected YYYY-MM-DD`);
  const text = readJobSql(job);
  const live = `\${kafka.rawSource:${LIVE_TOPIC},${job.name}}`;
  const uses = text.split(live).length - 1;
  if (uses !== 1) throw new Error(`${job.sql}: the replay swaps the job's one read of ${LIVE_TOPIC} (${live}) for the replay topic; found ${uses}`);
  const base = jobScript(job, env, {}, text.replace(live, `\${kafka.boundedSource:${REPLAY_TOPIC},${REPLAY_CLIENT}}`));
  const statements = [...base.statements];

  const at = statements.findIndex((s) => s.includes(`'topic' = '${REPLAY_TOPIC}'`));
  const table = /CREATE\s+TEMPORARY\s+TABLE\s+(\w+)\s*\(/i.exec(statements[at] ?? "")?.[1];
  if (!table) throw new Error(`${job.sql}: the read of ${LIVE_TOPIC} is not a CREATE TEMPORARY TABLE the replay can rename`);
  const topicTable = `${table}_replayed`;
  const columns = KAFKA_RAW_COLUMNS.map(([c]) => c).join(", ");
  statements.splice(
    at,
    1,
    statements[at].replace(new RegExp(`(CREATE\\s+TEMPORARY\\s+TABLE\\s+)${table}\\b`, "i"), `$1${topicTable}`),
    // Vector delivers at least once: a record sent twice is read once.
    `CREATE TEMPORARY VIEW ${table} AS
SELECT ${columns} FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY JSON_VALUE(payload, '$.event_id') ORDER BY src_partition, src_offset) AS replay_copy
  FROM ${topicTable}
  WHERE JSON_VALUE(payload, '$.replay_id') = '${o.replayId}' AND JSON_VALUE(payload, '$._reason') IS NULL)
WHERE replay_copy = 1`,
  );

  const last = statements[statements.length - 1];
  const body = /^\s*EXECUTE\s+STATEMENT\s+SET\s+BEGIN([\s\S]*)END\s*$/i.exec(last)?.[1] ?? `${last};`;
  const inserts = [...body.matchAll(/INSERT\s+INTO\s+([\w.]+)\s*(\/\*\+[\s\S]*?\*\/)?\s*([\s\S]*?);/gi)].map((m) => ({ table: m[1], hint: m[2] ?? "", query: m[3].trim() }));
  const ods = inserts.filter((i) => i.table.startsWith("ods."));
  if (!ods.length) throw new Error(`${job.sql}: no INSERT INTO an ods.* table in its statement set; nothing to replay into`);
  const absent = (t: string) =>
    `WHERE NOT EXISTS (SELECT 1 FROM ${t} AS present WHERE present.event_id = replayed.event_id AND present.dt BETWEEN '${o.dtFrom}' AND '${o.dtTo}')`;
  statements[statements.length - 1] = `EXECUTE STATEMENT SET BEGIN
${ods.map((i) => `INSERT INTO ${i.table} ${i.hint} SELECT * FROM (${i.query}) AS replayed ${absent(i.table)};`).join("\n")}
END`;
  const accepted = /FROM\s+(\w+)/i.exec(ods[0].query)?.[1];
  if (!accepted) throw new Error(`${job.sql}: cannot tell which view the INSERT into ${ods[0].table} reads`);

  const { "execution.checkpointing.interval": _i, "execution.checkpointing.mode": _m, "execution.checkpointing.timeout": _t, "execution.checkpointing.min-pause": _p, "execution.checkpointing.externalized-checkpoint-retention": _r, ...config } = base.config;
  return {
    // One slot: a batch job shares it across its stages, and the cluster keeps a few spare (flinkSizing's spareSlots).
    script: { job: `${REPLAY_CLIENT}-${o.replayId}`, config: { ...config, "pipeline.name": `${REPLAY_CLIENT}-${o.replayId}`, "execution.runtime-mode": "batch", "parallelism.default": "1" }, statements },
    topicTable,
    eventsView: table,
    inserts: ods.map((i) => ({ table: i.table, query: i.query })),
    acceptedView: accepted,
  };
}

/** How far the collector got: this replay's records in the topic, and those its parser rejected, by reason. */
export function replayProgressSql(r: ReplayScript, replayId: string): string {
  return `SELECT COALESCE(JSON_VALUE(payload, '$._reason'), '') AS reason, COUNT(*) AS records
FROM ${r.topicTable} WHERE JSON_VALUE(payload, '$.replay_id') = '${replayId}'
GROUP BY COALESCE(JSON_VALUE(payload, '$._reason'), '')`;
}

/** Per ODS table: the replay's rows (`replayed`) and those the table lacks (`absent`: what the INSERT adds). */
export function replayPlanSql(r: ReplayScript, dtFrom: string, dtTo: string): string {
  return r.inserts
    .flatMap((i) => [
      `SELECT '${i.table}' AS target, 'replayed' AS what, COUNT(*) AS records FROM (${i.query}) AS replayed`,
      `SELECT '${i.table}' AS target, 'absent' AS what, COUNT(*) AS records FROM (${i.query}) AS replayed WHERE NOT EXISTS (SELECT 1 FROM ${i.table} AS present WHERE present.event_id = replayed.event_id AND present.dt BETWEEN '${dtFrom}' AND '${dtTo}')`,
    ])
    .join("\nUNION ALL\n");
}
