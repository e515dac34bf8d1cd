import * as fs from "fs";
import * as path from "path";
import { SQL_DIR } from "./jobTable";
import { parseStarRocksCreateTable, TableDecl } from "./tableSchema";

/** The file that declares the DWS tables, and their database. */
export const DWS_FILE = path.join("starrocks", "10_dws.sql");
export const DWS_DATABASE = "dws";

/** One DWS table as sql/starrocks/10_dws.sql declares it. */
export interface DwsTableDeclaration {
  /** dws.<table> */
  readonly name: string;
  /** Its CREATE TABLE IF NOT EXISTS as written (StarRocks). */
  readonly create: string;
  /**
   * The same table in plain MySQL DDL (names, columns, types, keys; no StarRocks table model): where
   * StarRocks cannot run, a MySQL-protocol database with these tables receives exactly the rows the
   * StarRocks connector would upsert.
   */
  readonly createMysql: string;
  readonly declared: TableDecl;
}

const CREATE = /CREATE TABLE IF NOT EXISTS (\w+) \(([\s\S]*?)\) PRIMARY KEY \(([^)]*)\) DISTRIBUTED BY HASH \([^)]*\);/g;

/** Every DWS table, in file order; the file is the one source of truth for them. */
export function dwsTableDeclarations(text = fs.readFileSync(path.join(SQL_DIR, DWS_FILE), "utf8")): DwsTableDeclaration[] {
  return [...text.matchAll(CREATE)].map((m) => ({
    name: `${DWS_DATABASE}.${m[1]}`,
    create: m[0].replace(/;$/, ""),
    createMysql: `CREATE TABLE IF NOT EXISTS ${m[1]} (${m[2].trim()}, PRIMARY KEY (${m[3]}))`,
    declared: parseStarRocksCreateTable(m[0], DWS_DATABASE),
  }));
}

/** One DWS view as sql/starrocks/10_dws.sql declares it: its query is the one source of its definition. */
export interface DwsViewDeclaration {
  /** dws.<view> */
  readonly name: string;
  /** The SELECT after AS, as written. */
  readonly query: string;
}

const VIEW = /CREATE VIEW IF NOT EXISTS (\w+) AS\s+([\s\S]*?);/g;

/** Every DWS view (not the materialized views: dwsMaterializedViewDeclarations). */
export function dwsViewDeclarations(text = fs.readFileSync(path.join(SQL_DIR, DWS_FILE), "utf8")): DwsViewDeclaration[] {
  const code = text.replace(/^\s*--.*$/gm, "");
  return [...code.matchAll(VIEW)].map((m) => ({ name: `${DWS_DATABASE}.${m[1]}`, query: m[2].trim() }));
}

/** One asynchronous materialized view as sql/starrocks/10_dws.sql declares it. */
export interface DwsMaterializedViewDeclaration {
  /** dws.<mv> */
  readonly name: string;
  /** The SELECT after AS, as written. */
  readonly query: string;
}

// The refresh interval is the stack's (rtdw:lakehouse.materializedViewRefresh), filled in where the file says ${MV_REFRESH_MINUTES}.
const MATERIALIZED_VIEW = /CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+)\s+REFRESH ASYNC EVERY \(INTERVAL \$\{MV_REFRESH_MINUTES\} MINUTE\)\s+AS\s+([\s\S]*?);/g;

/** Every DWS materialized view, in file order. */
export function dwsMaterializedViewDeclarations(text = fs.readFileSync(path.join(SQL_DIR, DWS_FILE), "utf8")): DwsMaterializedViewDeclaration[] {
  const code = text.replace(/^\s*--.*$/gm, "");
  const declared = [...code.matchAll(MATERIALIZED_VIEW)].map((m) => ({ name: `${DWS_DATABASE}.${m[1]}`, query: m[2].trim() }));
  const all = (code.match(/CREATE MATERIALIZED VIEW/g) ?? []).length;
  if (declared.length !== all) {
    throw new Error(`sql/${DWS_FILE}: ${all - declared.length} of ${all} materialized views are not written as "CREATE MATERIALIZED VIEW IF NOT EXISTS <name> REFRESH ASYNC EVERY (INTERVAL \${MV_REFRESH_MINUTES} MINUTE) AS <query>;" (the stack sets their refresh from rtdw:lakehouse.materializedViewRefresh)`);
  }
  return declared;
}

/** The file that declares the StarRocks users and their grants. */
export const USERS_FILE = path.join("starrocks", "90_users.sql");

/** One user's grants as sql/starrocks/90_users.sql declares them. */
export interface UserGrantsDeclaration {
  /** 'user'@'host', as GRANT names it. */
  readonly grantee: string;
  /** Each GRANT's "<privileges> ON <objects>", in file order. */
  readonly grants: readonly string[];
}

/** Every user's grants in the file, in the order the users first appear. */
export function userGrantsDeclarations(text = fs.readFileSync(path.join(SQL_DIR, USERS_FILE), "utf8")): UserGrantsDeclaration[] {
  const code = text.replace(/^\s*--.*$/gm, "");
  const byUser = new Map<string, string[]>();
  for (const m of code.matchAll(/CREATE USER IF NOT EXISTS ('[^']+'@'[^']+')/g)) byUser.set(m[1], []);
  for (const m of code.matchAll(/^GRANT ([\s\S]+?) TO USER ('[^']+'@'[^']+')\s*;/gm)) {
    if (!byUser.has(m[2])) throw new Error(`sql/${USERS_FILE}: GRANT to ${m[2]}, a user the file does not create`);
    byUser.get(m[2])!.push(m[1].replace(/\s+/g, " ").trim());
  }
  return [...byUser].map(([grantee, grants]) => ({ grantee, grants }));
}
