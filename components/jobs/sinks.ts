import * as fs from "fs";
import * as path from "path";
import { SQL_DIR } from "../config/jobTable";
import { DWS_DATABASE, dwsTableDeclarations } from "../config/dwsTables";

/**
 * Where the jobs' `${sink:<table>}` tables write. In the stacks the DWS tables are StarRocks
 * primary-key tables (sql/starrocks/10_dws.sql) loaded by the StarRocks Flink connector, and the
 * quality results go to PostgreSQL (rtdw_quality), where Grafana reads them and the PostgreSQL
 * exporter turns the scores into metrics for the quality alert. Credentials stay ${secret:...}.
 */

/** The StarRocks tables the DWS SQL creates: the connector's targets. */
export function starrocksDwsTables(): string[] {
  return dwsTableDeclarations().map((t) => t.name.slice(`${DWS_DATABASE}.`.length));
}

/** Every `${sink:<table>}` the job SQL references. */
export function sinkTablesInSql(): string[] {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith(".sql")) for (const m of fs.readFileSync(p, "utf8").matchAll(/\$\{sink:(\w+)\}/g)) names.add(m[1]);
    }
  };
  walk(SQL_DIR);
  return [...names].sort();
}

export interface StarRocksSinkEndpoint {
  /** FE query port as JDBC, e.g. jdbc:mysql://starrocks-fe:9030. */
  readonly jdbcUrl: string;
  /** FE HTTP (Stream Load), host:port; several separated by ';'. */
  readonly loadUrl: string;
  readonly user: string;
  readonly database: string;
}

/**
 * StarRocks connector options (flink-connector-starrocks 1.2.x). Exactly-once uses transaction
 * Stream Load committed at each checkpoint (so rows show up one checkpoint interval late); the label
 * prefix must be unique per sink so a restarted job aborts its own lingering transactions only.
 * JSON rows, since CSV breaks on separators inside strings. The Flink table's primary key makes the
 * connector send upserts and deletes to the StarRocks primary-key table.
 */
export function starrocksSinkOptions(table: string, sr: StarRocksSinkEndpoint): Record<string, string> {
  return {
    connector: "starrocks",
    "jdbc-url": sr.jdbcUrl,
    "load-url": sr.loadUrl,
    "database-name": sr.database,
    "table-name": table,
    username: sr.user,
    password: "${secret:starrocks.password}",
    "sink.semantic": "exactly-once",
    "sink.label-prefix": `rtdw_${table}`,
    "sink.properties.format": "json",
    "sink.properties.strip_outer_array": "true",
    "sink.max-retries": "3",
  };
}

export interface JdbcSinkEndpoint {
  readonly jdbcUrl: string;
  readonly user: string;
  readonly secret: "quality.password" | "starrocks.password";
}

/** Flink JDBC connector options: upserts on the table's primary key, flushed at least every second. */
export function jdbcSinkOptions(table: string, db: JdbcSinkEndpoint): Record<string, string> {
  return {
    connector: "jdbc",
    url: db.jdbcUrl,
    "table-name": table,
    username: db.user,
    password: `\${secret:${db.secret}}`,
    "sink.buffer-flush.interval": "1s",
    "sink.max-retries": "3",
  };
}

/** The stacks' sinks: every DWS table to StarRocks, the quality table to PostgreSQL. */
export function stackSinks(sr: StarRocksSinkEndpoint, quality: Omit<JdbcSinkEndpoint, "secret">): Record<string, Record<string, string>> {
  const sinks: Record<string, Record<string, string>> = {};
  for (const t of starrocksDwsTables()) sinks[t] = starrocksSinkOptions(t, sr);
  sinks.dq_table_quality = jdbcSinkOptions("dq_table_quality", { ...quality, secret: "quality.password" });
  return sinks;
}

/**
 * The StarRocks DWS tables as plain MySQL DDL: same names, columns, types and keys, without
 * StarRocks' table-model clauses. Where StarRocks cannot run (the sandbox), a MySQL-protocol
 * database with these tables receives exactly the rows the StarRocks connector would upsert.
 */
export function starrocksDwsAsMysql(): string[] {
  return dwsTableDeclarations().map((t) => t.createMysql);
}

/**
 * The sinks of a stack without StarRocks: every DWS table through the JDBC connector into a
 * MySQL-protocol database holding starrocksDwsAsMysql(), the quality table to PostgreSQL as in the stacks.
 */
export function standInSinks(dws: Omit<JdbcSinkEndpoint, "secret">, quality: Omit<JdbcSinkEndpoint, "secret">): Record<string, Record<string, string>> {
  const sinks: Record<string, Record<string, string>> = {};
  for (const t of starrocksDwsTables()) sinks[t] = jdbcSinkOptions(t, { ...dws, secret: "starrocks.password" });
  sinks.dq_table_quality = jdbcSinkOptions("dq_table_quality", { ...quality, secret: "quality.password" });
  return sinks;
}
