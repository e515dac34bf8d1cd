import { lakeTables } from "../config/lakehousePolicy";
import { starrocksDwsTables } from "./sinks";
import { JobSpec, readJobSql } from "../config/jobTable";

/**
 * Table-level lineage read from the job SQL itself (not declared a second time): which tables each
 * job reads and writes. Names are qualified by the system that holds them:
 *   mysql:<table>          a CDC source table of the business database
 *   kafka:<topic>          a Kafka topic
 *   paimon:<db>.<table>    a table of the Paimon catalog (ods, dwd, dq, ...)
 *   starrocks:dws.<table>  a DWS table loaded by the StarRocks connector
 *   postgres:rtdw_quality.<table>  the quality results
 * A temporary table whose connector cannot be recognised is an error, so lineage never silently
 * drops an edge.
 */

export interface JobLineage {
  readonly job: string;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  /** Tables whose files the job rewrites without changing their rows (compaction, expiry). */
  readonly maintains: readonly string[];
}

const stripComments = (sql: string) => sql.replace(/--[^\n]*/g, "");

/** The external table a temporary table's WITH clause points at. */
function externalOf(name: string, stmt: string, file: string): string {
  let m: RegExpMatchArray | null;
  if ((m = stmt.match(/\$\{sink:(\w+)\}/))) return starrocksDwsTables().includes(m[1]) ? `starrocks:dws.${m[1]}` : `postgres:rtdw_quality.${m[1]}`;
  if ((m = stmt.match(/\$\{kafka\.(?:changelogSink|rawSource):([\w.-]+)/))) return `kafka:${m[1]}`;
  if ((m = stmt.match(/'topic'\s*=\s*'([\w.-]+)'/))) return `kafka:${m[1]}`;
  if (stmt.includes("${mysql.cdc}") && (m = stmt.match(/'table-name'\s*=\s*'(\w+)'/))) return `mysql:${m[1]}`;
  throw new Error(`${file}: cannot tell what temporary table ${name} reads or writes (no sink, Kafka or CDC options)`);
}

/** Table references of a query: FROM / JOIN targets, minus CTE names. */
function referencesIn(query: string): string[] {
  const ctes = new Set([...query.matchAll(/(?:\bWITH|,)\s+(\w+)\s+AS\s*\(/gi)].map((m) => m[1].toLowerCase()));
  const refs: string[] = [];
  for (const m of query.matchAll(/\b(?:FROM|JOIN)\s+(?!\()([A-Za-z_][\w.]*)/gi)) {
    const name = m[1];
    if (/^(LATERAL|UNNEST|TABLE)$/i.test(name) || ctes.has(name.toLowerCase())) continue;
    refs.push(name);
  }
  return refs;
}

export function lineageOfSql(sqlText: string, file: string): { reads: string[]; writes: string[]; maintains: string[] } {
  // A change-event view reads exactly the table its fragment is given.
  const sql = stripComments(sqlText).replace(/\$\{kafka\.changeEvents:(\w+)\}/g, "SELECT * FROM $1");
  const temps = new Map<string, string>();
  const views = new Map<string, string[]>();
  const statements = sql.split(/;\s*(?:\n|$)/);
  const resolve = (name: string, seen: Set<string> = new Set()): string[] => {
    const key = name.toLowerCase();
    if (temps.has(key)) return [temps.get(key)!];
    if (views.has(key)) {
      if (seen.has(key)) throw new Error(`${file}: view ${name} refers to itself`);
      seen.add(key);
      return views.get(key)!.flatMap((r) => resolve(r, seen));
    }
    const parts = name.split(".");
    if (parts.length >= 2) return [`paimon:${parts.slice(-2).join(".")}`];
    throw new Error(`${file}: table ${name} is neither a temporary table, a view nor a catalog table (db.table)`);
  };
  const reads = new Set<string>();
  const writes = new Set<string>();
  for (const stmt of statements) {
    let m: RegExpMatchArray | null;
    if ((m = stmt.match(/CREATE\s+TEMPORARY\s+TABLE\s+(\w+)/i))) temps.set(m[1].toLowerCase(), externalOf(m[1], stmt, file));
    else if ((m = stmt.match(/CREATE\s+TEMPORARY\s+VIEW\s+(\w+)\s+AS\s+([\s\S]*)/i))) views.set(m[1].toLowerCase(), referencesIn(m[2]));
    for (const ins of stmt.matchAll(/INSERT\s+INTO\s+([\w.]+)([\s\S]*?)(?=INSERT\s+INTO|\bEND\b|$)/gi)) {
      for (const w of resolve(ins[1])) writes.add(w);
      for (const r of referencesIn(ins[2])) for (const x of resolve(r)) reads.add(x);
    }
  }
  // CALL sys.compact_database(..., including_tables => '<regex over db.table>', ...): the tables it matches.
  const maintains = new Set<string>();
  for (const m of sql.matchAll(/CALL\s+sys\.compact_database\s*\(([\s\S]*?)\)\s*(?:;|$)/gi)) {
    const pattern = /including_tables\s*=>\s*'([^']*)'/.exec(m[1])?.[1];
    if (!pattern) throw new Error(`${file}: a compaction job must name its tables (including_tables => '<regex>')`);
    const re = new RegExp(`^(?:${pattern})$`);
    const matched = lakeTables().filter((t) => re.test(t.name));
    if (!matched.length) throw new Error(`${file}: including_tables '${pattern}' matches no table of the pipelines' tables.sql`);
    for (const t of matched) maintains.add(`paimon:${t.name}`);
  }
  return { reads: [...reads].sort(), writes: [...writes].sort(), maintains: [...maintains].sort() };
}

export function jobLineage(jobs: readonly Pick<JobSpec, "name" | "sql">[]): JobLineage[] {
  return jobs.map((j) => ({ job: j.name, ...lineageOfSql(readJobSql(j), j.sql) }));
}

/** The generated docs page: a Mermaid diagram (tables -> jobs -> tables) and a table per job. */
export function renderLineageDoc(lineage: readonly JobLineage[]): string {
  const id = (s: string) => s.replace(/[^A-Za-z0-9]/g, "_");
  const tables = new Set(lineage.flatMap((l) => [...l.reads, ...l.writes, ...l.maintains]));
  const lines = ["flowchart LR"];
  for (const t of [...tables].sort()) lines.push(`  ${id(t)}[("${t}")]`);
  for (const l of lineage) {
    lines.push(`  ${id(l.job)}{{"${l.job}"}}`);
    for (const r of l.reads) lines.push(`  ${id(r)} --> ${id(l.job)}`);
    for (const w of l.writes) lines.push(`  ${id(l.job)} --> ${id(w)}`);
    for (const t of l.maintains) lines.push(`  ${id(l.job)} -.-> ${id(t)}`);
  }
  const rows = lineage.map((l) => `| ${l.job} | ${l.reads.join("<br>")} | ${l.writes.join("<br>")} | ${l.maintains.join("<br>")} |`);
  return `# Table lineage

Generated from the job SQL by \`npm run docs\` (components/jobs/lineage.ts); a test fails when this
page is stale. The stack exports the same data as the \`lineage\` output.

\`\`\`mermaid
${lines.join("\n")}
\`\`\`

Dotted edges: a compaction job rewrites a table's files (merging small ones, expiring snapshots and
partitions) without changing its rows.

| job | reads | writes | maintains |
|---|---|---|---|
${rows.join("\n")}
`;
}
