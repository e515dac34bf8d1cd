import * as fs from "fs";
import * as path from "path";
import { JobEnvironment, renderSql, splitStatements } from "../jobs/render";
import { SQL_DIR } from "../config/jobTable";
import * as pulumi from "@pulumi/pulumi";
import { LakehousePolicy, LakeTable, paimonDuration } from "../config/lakehousePolicy";
import { Sizing } from "../config/services";
import { SidecarSpec } from "../platform/service";

/**
 * The lakehouse upkeep task: what commits cannot do. Partition expiry runs only when a table is
 * committed to, so a table nobody writes to any more (a reject table on a quiet month) would keep its
 * old partitions; and files a writer wrote but never committed (a TaskManager killed mid-checkpoint)
 * are referenced by no snapshot, so no expiry ever deletes them. Every `orphanFiles.every`, one SQL
 * Gateway session runs, per table: partition expiry by its class's retention, snapshot expiry by its
 * options, and orphan-file removal for files older than `orphanFiles.olderThan`.
 *
 * upkeep.sh runs the statements beside the SQL Gateway; each is one line "<label>\t<JSON request body>".
 */

/** Replaced by the runner, at each run, with now − olderThan ("yyyy-MM-dd HH:mm:ss", the gateway's time zone). */
export const OLDER_THAN_MARKER = "@OLDER_THAN@";
export const UPKEEP_SCRIPT = path.join(__dirname, "upkeep.sh");

export interface UpkeepStatement {
  /** What the runner logs for it (never the statement: the catalog's carries credentials). */
  readonly label: string;
  readonly sql: string;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The statements of one upkeep run over `tables`, credentials left as ${secret:…}. */
export function upkeepStatements(policy: LakehousePolicy, tables: readonly LakeTable[], env: JobEnvironment): UpkeepStatement[] {
  const catalog = splitStatements(renderSql(fs.readFileSync(path.join(SQL_DIR, "catalog.sql"), "utf8"), env, "catalog.sql")).map((sql) => ({ label: sql.split(/\s+/).slice(0, 3).join(" "), sql }));
  const perTable = tables.flatMap((t): UpkeepStatement[] => [
    ...(t.retention
      ? [
          {
            label: `${t.name}: expire partitions older than ${policy.retentionDays[t.retention]} d`,
            sql: `CALL sys.expire_partitions(\`table\` => ${lit(t.name)}, expiration_time => ${lit(`${policy.retentionDays[t.retention]} d`)}, timestamp_formatter => 'yyyy-MM-dd', timestamp_pattern => '$dt')`,
          },
        ]
      : []),
    { label: `${t.name}: expire snapshots`, sql: `CALL sys.expire_snapshots(\`table\` => ${lit(t.name)})` },
    {
      label: `${t.name}: remove orphan files older than ${paimonDuration(policy.orphanFiles.olderThanMs)}`,
      // local: listed and deleted by this call, not by a Flink batch job that would need free slots.
      sql: `CALL sys.remove_orphan_files(\`table\` => ${lit(t.name)}, older_than => '${OLDER_THAN_MARKER}', mode => 'local')`,
    },
  ]);
  return [...catalog, ...perTable];
}

/** The runner's input: one "<label>\t<JSON body of POST /v3/sessions/:s/statements>" per line. */
export function upkeepStatementLines(statements: readonly UpkeepStatement[]): string {
  return statements.map((s) => `${s.label.replace(/[\t\n]/g, " ")}\t${JSON.stringify({ statement: s.sql })}`).join("\n") + "\n";
}

/** The runner's environment besides the statements (which are a secret: the catalog's credentials). */
export function upkeepEnv(policy: LakehousePolicy, sqlGatewayUrl: string): Record<string, string> {
  return {
    SQL_GATEWAY_URL: sqlGatewayUrl,
    UPKEEP_EVERY_SECONDS: String(Math.round(policy.orphanFiles.everyMs / 1000)),
    ORPHAN_OLDER_THAN_SECONDS: String(Math.round(policy.orphanFiles.olderThanMs / 1000)),
  };
}

export function upkeepScript(): string {
  return fs.readFileSync(UPKEEP_SCRIPT, "utf8");
}

/** The runner as a sidecar of the SQL Gateway: it sends the procedures to the gateway on loopback, so it connects to nothing else. */
export function upkeepSidecar(o: { policy: LakehousePolicy; image: string; sizing: Sizing; sqlGatewayPort: number; statements: pulumi.Input<string> }): SidecarSpec {
  return {
    name: "lakehouse-upkeep",
    image: o.image,
    command: ["sh", "/etc/rtdw-upkeep/upkeep.sh"],
    env: upkeepEnv(o.policy, `http://127.0.0.1:${o.sqlGatewayPort}`),
    secretEnv: { UPKEEP_STATEMENTS: o.statements },
    configFiles: [{ dir: "/etc/rtdw-upkeep", files: { "upkeep.sh": upkeepScript() } }],
    sizing: o.sizing,
    connectsTo: [],
  };
}
