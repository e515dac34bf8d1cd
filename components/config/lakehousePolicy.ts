import * as fs from "fs";
import * as path from "path";
import type { Profile } from "./services";
import { SQL_DIR } from "./jobTable";

/**
 * How the lakehouse keeps itself small (`rtdw:lakehouse`): partition expiry per table class, snapshot
 * retention, consumer expiry and orphan-file removal. Written once here; table options, the
 * compaction jobs' options, the upkeep task's statements, the docs and the tests read them from here.
 */
export interface LakehousePolicy {
  /** Days a partition is kept, by table class (its dt is older: the partition is dropped). */
  readonly retentionDays: Readonly<Record<RetentionClass, number>>;
  readonly snapshots: {
    /** Snapshots always kept, however old. */
    readonly retainMin: number;
    /** Snapshots kept at most, however young. */
    readonly retainMax: number;
    /** Snapshots younger than this are kept (between the two counts). */
    readonly timeRetainedMs: number;
  };
  /** A streaming reader's consumer-id holds its snapshot this long after its job last advanced it. */
  readonly consumerExpirationMs: number;
  /** Orphan files (written, never committed: a crashed writer's) are removed this often, once this old. */
  readonly orphanFiles: { readonly everyMs: number; readonly olderThanMs: number };
  /** StarRocks' asynchronous materialized views over DWS (sql/starrocks/10_dws.sql) refresh this often. */
  readonly materializedViewRefreshMinutes: number;
}

/** ODS: every record as it arrived; DWD: the cleaned, partitioned facts; rejects: what the checks refused. */
export const RETENTION_CLASSES = ["ods", "dwd", "rejects"] as const;
export type RetentionClass = (typeof RETENTION_CLASSES)[number];

const H = 3_600_000;
const D = 24 * H;

/** prod keeps a quarter of raw history; the smaller stacks keep days, so their object stores stay small. */
export const DEFAULT_LAKEHOUSE: Readonly<Record<Profile, LakehousePolicy>> = {
  dev: { retentionDays: { ods: 7, dwd: 30, rejects: 7 }, snapshots: { retainMin: 5, retainMax: 50, timeRetainedMs: H }, consumerExpirationMs: D, orphanFiles: { everyMs: 6 * H, olderThanMs: 6 * H }, materializedViewRefreshMinutes: 30 },
  test: { retentionDays: { ods: 14, dwd: 90, rejects: 14 }, snapshots: { retainMin: 10, retainMax: 100, timeRetainedMs: H }, consumerExpirationMs: 3 * D, orphanFiles: { everyMs: D, olderThanMs: D }, materializedViewRefreshMinutes: 10 },
  prod: { retentionDays: { ods: 90, dwd: 730, rejects: 30 }, snapshots: { retainMin: 10, retainMax: 200, timeRetainedMs: H }, consumerExpirationMs: 7 * D, orphanFiles: { everyMs: D, olderThanMs: D }, materializedViewRefreshMinutes: 5 },
};

/** A duration as the docs and the config spell it: whole days, else hours, else minutes. */
function formatDuration(ms: number): string {
  if (ms % D === 0) return `${ms / D} d`;
  if (ms % H === 0) return `${ms / H} h`;
  return `${ms / 60_000} min`;
}

/** Each key of `rtdw:lakehouse`: its default per profile and what it does (docs/configuration.md's table). */
const LAKEHOUSE_KEYS: readonly { readonly key: string; readonly value: (p: LakehousePolicy) => string; readonly doc: string }[] = [
  { key: "retention.ods", value: (p) => `${p.retentionDays.ods} d`, doc: "partitions of the ODS tables (`ods.*`) whose `dt` is older are dropped; whole days" },
  { key: "retention.dwd", value: (p) => `${p.retentionDays.dwd} d`, doc: "the same for partitioned DWD tables (`dwd.tracking_events`); the keyed DWD tables are not partitioned and keep every key" },
  { key: "retention.rejects", value: (p) => `${p.retentionDays.rejects} d`, doc: "the same for the reject tables (`dq.*_rejects`)" },
  { key: "snapshots.retainMin", value: (p) => String(p.snapshots.retainMin), doc: "snapshots always kept, however old; at least 1" },
  { key: "snapshots.retainMax", value: (p) => String(p.snapshots.retainMax), doc: "snapshots kept at most, however young; not below `retainMin`" },
  { key: "snapshots.timeRetained", value: (p) => formatDuration(p.snapshots.timeRetainedMs), doc: "snapshots younger than this are kept (between the two counts); at least two of the longest checkpoint interval" },
  {
    key: "consumerExpiration",
    value: (p) => formatDuration(p.consumerExpirationMs),
    doc: "a streaming reader's consumer-id keeps its snapshot this long after its job last moved it: how long a job may stay stopped and still resume; longer than `snapshots.timeRetained`",
  },
  { key: "orphanFiles.every", value: (p) => formatDuration(p.orphanFiles.everyMs), doc: "how often the upkeep task runs; at least `10 min`" },
  {
    key: "orphanFiles.olderThan",
    value: (p) => formatDuration(p.orphanFiles.olderThanMs),
    doc: "files referenced by no snapshot (a crashed writer's) are deleted once this old; at least `1 h` and three of the longest checkpoint interval, so a file written but not yet committed is never touched",
  },
  {
    key: "materializedViewRefresh",
    value: (p) => formatDuration(p.materializedViewRefreshMinutes * 60_000),
    doc: "how often StarRocks refreshes the asynchronous materialized views over DWS (`sql/starrocks/10_dws.sql`); whole minutes, `1 min` to `24 h`",
  },
];

/** docs/configuration.md's `rtdw:lakehouse` table, from the defaults above. */
export function renderLakehouseDoc(): string {
  return [
    "| key | dev | test | prod | what it does; what preview refuses |",
    "|---|---|---|---|---|",
    ...LAKEHOUSE_KEYS.map((k) => `| \`${k.key}\` | ${(["dev", "test", "prod"] as const).map((p) => `\`${k.value(DEFAULT_LAKEHOUSE[p])}\``).join(" | ")} | ${k.doc} |`),
  ].join("\n");
}

/** `rtdw:lakehouse` as typed (durations as Paimon spells them), every key optional. */
export interface RawLakehouse {
  readonly retention?: Partial<Record<RetentionClass, string>>;
  readonly snapshots?: { readonly retainMin?: number; readonly retainMax?: number; readonly timeRetained?: string };
  readonly consumerExpiration?: string;
  readonly orphanFiles?: { readonly every?: string; readonly olderThan?: string };
  readonly materializedViewRefresh?: string;
}

/** The profile's defaults with what the stack sets over them (values already checked by the schema). */
export function resolveLakehouse(raw: RawLakehouse | undefined, base: LakehousePolicy): LakehousePolicy {
  const ms = (v: string | undefined, d: number) => (v === undefined ? d : parsePaimonDuration(v)!);
  const retentionDays = { ...base.retentionDays };
  for (const c of RETENTION_CLASSES) if (raw?.retention?.[c] !== undefined) retentionDays[c] = Math.round(parsePaimonDuration(raw.retention[c]!)! / D);
  return {
    retentionDays,
    snapshots: {
      retainMin: raw?.snapshots?.retainMin ?? base.snapshots.retainMin,
      retainMax: raw?.snapshots?.retainMax ?? base.snapshots.retainMax,
      timeRetainedMs: ms(raw?.snapshots?.timeRetained, base.snapshots.timeRetainedMs),
    },
    consumerExpirationMs: ms(raw?.consumerExpiration, base.consumerExpirationMs),
    orphanFiles: { everyMs: ms(raw?.orphanFiles?.every, base.orphanFiles.everyMs), olderThanMs: ms(raw?.orphanFiles?.olderThan, base.orphanFiles.olderThanMs) },
    materializedViewRefreshMinutes: raw?.materializedViewRefresh === undefined ? base.materializedViewRefreshMinutes : parsePaimonDuration(raw.materializedViewRefresh)! / 60_000,
  };
}

/** "90 d", "1 h", "30 min", "45 s" (Paimon's own spelling) -> milliseconds; undefined otherwise. */
export function parsePaimonDuration(v: string): number | undefined {
  const m = /^(\d+)\s*(d|h|min|s)$/.exec(v.trim());
  return m ? Number(m[1]) * { d: D, h: H, min: 60_000, s: 1000 }[m[2] as "d"] : undefined;
}

/** Milliseconds in Paimon's spelling, in the largest unit that divides them. */
export function paimonDuration(ms: number): string {
  if (ms % D === 0) return `${ms / D} d`;
  if (ms % H === 0) return `${ms / H} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.ceil(ms / 1000)} s`;
}

/**
 * Problems with a policy, each naming its key. `checkpointMs` is the longest checkpoint interval of
 * the stack's jobs: a writer's files stay uncommitted until its next checkpoint completes.
 */
export function lakehousePolicyProblems(p: LakehousePolicy, checkpointMs: number, key: (k: string) => string): string[] {
  const problems: string[] = [];
  for (const c of RETENTION_CLASSES) {
    if (!Number.isInteger(p.retentionDays[c]) || p.retentionDays[c] < 1) problems.push(`${key(`lakehouse.retention.${c}`)}: expected a whole number of days, at least "1 d"`);
  }
  const s = p.snapshots;
  if (s.retainMin < 1) problems.push(`${key("lakehouse.snapshots.retainMin")}: at least 1 (the latest snapshot is the table)`);
  if (s.retainMax < s.retainMin) problems.push(`${key("lakehouse.snapshots.retainMax")}: ${s.retainMax} is below retainMin (${s.retainMin})`);
  // A job restored from its last checkpoint reads on from the snapshot it had reached then.
  if (s.timeRetainedMs < 2 * checkpointMs) {
    problems.push(`${key("lakehouse.snapshots.timeRetained")}: ${paimonDuration(s.timeRetainedMs)} is shorter than two checkpoint intervals (${paimonDuration(2 * checkpointMs)}); a job restored from its checkpoint would find its snapshot gone`);
  }
  // Consumers exist to outlive snapshot retention: a stopped job keeps its place for this long.
  if (p.consumerExpirationMs <= s.timeRetainedMs) {
    problems.push(`${key("lakehouse.consumerExpiration")}: ${paimonDuration(p.consumerExpirationMs)} must be longer than lakehouse.snapshots.timeRetained (${paimonDuration(s.timeRetainedMs)}), or a stopped job's consumer-id protects nothing`);
  }
  const minOrphanAge = Math.max(H, 3 * checkpointMs);
  if (p.orphanFiles.olderThanMs < minOrphanAge) {
    problems.push(`${key("lakehouse.orphanFiles.olderThan")}: ${paimonDuration(p.orphanFiles.olderThanMs)} is below ${paimonDuration(minOrphanAge)}: files a writer has written but not yet committed (until its checkpoint completes) would be deleted`);
  }
  const mv = p.materializedViewRefreshMinutes;
  if (!Number.isInteger(mv) || mv < 1 || mv > 24 * 60) problems.push(`${key("lakehouse.materializedViewRefresh")}: expected whole minutes from "1 min" to "24 h"`);
  if (p.orphanFiles.everyMs < 10 * 60_000) problems.push(`${key("lakehouse.orphanFiles.every")}: at least "10 min" (each run lists every table's files on the object store)`);
  return problems;
}

/** A table of the catalog as the pipelines' tables.sql declares it. */
export interface LakeTable {
  /** db.table */
  readonly name: string;
  readonly pipeline: "warehouse" | "tracking";
  readonly partitionKeys: readonly string[];
  readonly primaryKey: boolean;
  /** Its retention class; undefined for tables without a dt partition (kept whole). */
  readonly retention?: RetentionClass;
}

/** The tables of both pipelines, read from their tables.sql: the DDL is the one list of tables. */
export function lakeTables(sqlDir = SQL_DIR): LakeTable[] {
  const out: LakeTable[] = [];
  for (const pipeline of ["warehouse", "tracking"] as const) {
    const sql = fs.readFileSync(path.join(sqlDir, pipeline, "tables.sql"), "utf8");
    for (const m of sql.matchAll(/CREATE TABLE IF NOT EXISTS ([\w]+\.[\w]+) \(([\s\S]*?)\)\s*(PARTITIONED BY \(([^)]*)\))?\s*(WITH \([\s\S]*?\))?;/g)) {
      const [db, table] = m[1].split(".");
      const partitionKeys = (m[4] ?? "").split(",").map((k) => k.trim()).filter(Boolean);
      const cls: RetentionClass | undefined = !partitionKeys.includes("dt") ? undefined : db === "ods" ? "ods" : db === "dwd" ? "dwd" : table.endsWith("_rejects") ? "rejects" : undefined;
      out.push({ name: m[1], pipeline, partitionKeys, primaryKey: /PRIMARY KEY/i.test(m[2]), retention: cls });
    }
  }
  return out;
}

/**
 * Tables written in write-only mode and compacted by their pipeline's compaction job: the append-only
 * ODS tables, where ingestion writes. Primary-key tables keep compacting in their writer, because
 * their lookup changelog (what downstream jobs read) is produced by that compaction.
 */
export function compactedByJob(t: LakeTable): boolean {
  return t.name.startsWith("ods.") && !t.primaryKey;
}

/** The Paimon options a table carries under this policy (set by the upkeep task; passed to the compaction jobs). */
export function tableOptions(t: LakeTable, p: LakehousePolicy): Record<string, string> {
  return {
    "snapshot.num-retained.min": String(p.snapshots.retainMin),
    "snapshot.num-retained.max": String(p.snapshots.retainMax),
    "snapshot.time-retained": paimonDuration(p.snapshots.timeRetainedMs),
    "consumer.expiration-time": paimonDuration(p.consumerExpirationMs),
    ...(t.retention
      ? {
          "partition.expiration-time": `${p.retentionDays[t.retention]} d`,
          "partition.expiration-check-interval": "1 h",
          "partition.timestamp-pattern": "$dt",
          "partition.timestamp-formatter": "yyyy-MM-dd",
        }
      : {}),
  };
}
