import * as pulumi from "@pulumi/pulumi";
import { SqlGatewayClient } from "../flink/sqlGateway";
import { withApiAccess } from "../platform/tunnel";
import { SecretName, withSecrets } from "../jobs/render";
import { parseCreateTable, planSchemaChange, plannedSchemaAction, SchemaPlan, TableDecl } from "../config/tableSchema";

/**
 * One Paimon table as a resource: its desired schema is its CREATE TABLE in the pipeline's
 * tables.sql, its actual schema what Flink answers to SHOW CREATE TABLE. `up` creates it if absent
 * and otherwise changes it in place (config/tableSchema.ts says which changes are made and which are
 * refused); preview names the ALTER statements (plannedAction) and fails on a refused change, naming
 * the table and column, before anything is created. A refresh that finds the table changed outside
 * the stack records what it found (`observed`), so the next preview reports it. Removing a table from
 * the files never drops it (retainOnDelete; delete does nothing).
 */
export interface PaimonTableInputs {
  readonly sqlGatewayUrl: string;
  readonly tunnel?: { readonly context?: string };
  /** The catalog's statements (sql/catalog.sql, rendered): credentials stay ${secret:...}. */
  readonly catalog: readonly string[];
  /** The catalog's name in those statements. */
  readonly catalogName: string;
  /** The table's CREATE TABLE IF NOT EXISTS as rendered from its file. */
  readonly create: string;
  /** The same statement, read: what preview compares. */
  readonly declared: TableDecl;
  /** The file that declares it, for messages. */
  readonly file: string;
  readonly secrets: Readonly<Partial<Record<SecretName, string>>>;
  /** The catalog's table where a refresh found it different from `declared`; only read() sets it. */
  readonly observed?: TableDecl;
  /** What `up` will do; set by check() so the preview shows it. */
  readonly plannedAction?: string;
}

export interface PaimonTableOutputs extends PaimonTableInputs {
  /** The table as the catalog answered after the last create, update or refresh. */
  readonly actual?: TableDecl;
  /** The ALTER statements the last `up` ran (empty when there was nothing to change). */
  readonly applied?: readonly string[];
}

/** Waiting for a SQL Gateway that may be created in the same `up`: about ten minutes. */
const READY_RETRY = { attempts: 45, initialDelayMs: 1000, maxDelayMs: 15000 };
/** A value the engine does not know yet (a preview before the platform exists). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

async function inCatalog<T>(i: PaimonTableInputs, fn: (run: (sql: string) => Promise<unknown[][]>) => Promise<T>): Promise<T> {
  return withApiAccess([i.sqlGatewayUrl], i.tunnel, async (reach) => {
    // Only opening the session waits for the gateway; a statement Flink refuses (HTTP 500) is not retried.
    const session = await new SqlGatewayClient(reach(i.sqlGatewayUrl), READY_RETRY).openSession({ "execution.runtime-mode": "batch" }, `rtdw-table-${i.declared.name}-${Date.now()}`);
    const gw = new SqlGatewayClient(reach(i.sqlGatewayUrl));
    try {
      const run = async (sql: string) => (await gw.execute(session, withSecrets(sql, i.secrets), {}, 300000)).rows;
      for (const s of i.catalog) await catalogStatement(() => run(s));
      return await fn(run);
    } finally {
      await gw.closeSession(session).catch(() => undefined);
    }
  });
}

/**
 * Paimon's JDBC catalog creates its tables in PostgreSQL on first use with CREATE TABLE IF NOT EXISTS,
 * which PostgreSQL does not make safe against a concurrent twin: on a fresh metastore, two sessions
 * creating the catalog at once (the databases and the upkeep, or two tables) fail one of them with
 * "duplicate key value violates unique constraint pg_type_typname_nsp_index" (seen on a fresh
 * sandbox, 2026-12-06). The winner has created them by then: the statement is tried again.
 */
async function catalogStatement<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      const m = String((e as Error).message);
      if (attempt >= attempts || !/Cannot initialize JDBC catalog/.test(m) || !/duplicate key value|already exists/.test(m)) throw e;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

const qualified = (i: PaimonTableInputs) => `${i.catalogName}.${i.declared.name.split(".").map((p) => `\`${p}\``).join(".")}`;

/** The table as the catalog has it, or undefined when it does not exist. */
async function actualTable(i: PaimonTableInputs, run: (sql: string) => Promise<unknown[][]>): Promise<TableDecl | undefined> {
  const [db, table] = i.declared.name.split(".");
  if (!(await run(`SHOW DATABASES`)).some((r) => String(r[0]) === db)) return undefined;
  const tables = (await run(`SHOW TABLES FROM ${i.catalogName}.\`${db}\``)).map((r) => String(r[0]));
  if (!tables.includes(table)) return undefined;
  return parseCreateTable(String((await run(`SHOW CREATE TABLE ${qualified(i)}`))[0]?.[0] ?? ""));
}

function refusal(i: PaimonTableInputs, plan: SchemaPlan): Error {
  return new Error(`${i.file}: ${i.declared.name} cannot be changed that way — ${plan.refused.join("; ")}. Nothing was changed.`);
}

/** Creates the table if absent, then brings it to the declared schema; refuses without changing anything. */
async function reconcile(i: PaimonTableInputs, declaredBefore: TableDecl | undefined): Promise<PaimonTableOutputs> {
  return inCatalog(i, async (run) => {
    const [db] = i.declared.name.split(".");
    let actual = await actualTable(i, run);
    if (!actual) {
      await run(`CREATE DATABASE IF NOT EXISTS ${i.catalogName}.\`${db}\``);
      await run(i.create);
      return { ...i, observed: undefined, plannedAction: undefined, actual: await actualTable(i, run), applied: [] };
    }
    // A table found in place (a rebuild after a lost state, or one made before this resource): what
    // it has beyond the files is kept as drift.
    const plan = planSchemaChange(actual, i.declared, i.catalogName, declaredBefore ?? i.declared);
    if (plan.refused.length) throw refusal(i, plan);
    for (const s of plan.statements) await run(s);
    if (plan.statements.length) actual = await actualTable(i, run);
    return { ...i, observed: undefined, plannedAction: undefined, actual, applied: plan.statements };
  });
}

/** Plain JSON: outputs travel as a protobuf Struct, which has no `undefined`. */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** What preview says `up` will do, from the previous declaration (or the catalog as last refreshed). */
export function plannedTableAction(olds: PaimonTableInputs | undefined, news: PaimonTableInputs): { action: string; plan?: SchemaPlan } {
  return plannedSchemaAction(olds?.declared ? olds : undefined, news.declared, news.catalogName);
}

export const paimonTableProvider: pulumi.dynamic.ResourceProvider<PaimonTableInputs, PaimonTableOutputs> = {
  async check(olds, news) {
    const { action, plan } = plannedTableAction(olds?.declared ? olds : undefined, news);
    const failures = (plan?.refused ?? []).map((reason) => ({ property: "declared", reason: `${news.file}: ${reason}` }));
    return { inputs: plain({ ...news, observed: undefined, plannedAction: action }), failures };
  },
  async diff(_id, olds, news) {
    const declared = JSON.stringify(olds.declared) !== JSON.stringify(news.declared);
    // After a refresh that found the table changed by hand, `up` reports it again and records what is there.
    const drifted = olds.observed !== undefined;
    const moved = olds.sqlGatewayUrl !== news.sqlGatewayUrl && !news.sqlGatewayUrl.includes(UNKNOWN);
    return { changes: declared || drifted || moved };
  },
  async create(inputs) {
    const outs = await reconcile(inputs, undefined);
    return { id: inputs.declared.name, outs: plain(outs) };
  },
  async update(_id, olds, news) {
    return { outs: plain(await reconcile(news, olds.declared)) };
  },
  async read(id, props) {
    const p = props as PaimonTableOutputs;
    const actual = await inCatalog(p, (run) => actualTable(p, run));
    // Gone from the catalog (dropped by hand): the resource is gone, the next `up` creates it again.
    if (!actual) return {};
    const same = planSchemaChange(actual, p.declared, p.catalogName, p.declared);
    const differs = same.statements.length > 0 || same.drift.length > 0 || same.refused.length > 0;
    const observed = differs ? actual : undefined;
    const inputs = plain({ ...p, actual: undefined, applied: undefined, observed });
    return { id, props: plain({ ...p, actual, observed }), inputs: inputs as unknown as PaimonTableOutputs /* the SDK types ReadResult.inputs as the outputs */ };
  },
  // A table holds the warehouse's data: never dropped by Pulumi.
  async delete() {},
};

/**
 * The catalog's databases, created once before any table: tables created in parallel into a fresh
 * catalog race creating the JDBC catalog's own tables (PostgreSQL: duplicate key in pg_type) and the
 * same database, as the jobs did when each created them (found by the real engine).
 */
export interface PaimonDatabasesInputs {
  readonly sqlGatewayUrl: string;
  readonly tunnel?: { readonly context?: string };
  readonly catalog: readonly string[];
  readonly catalogName: string;
  readonly databases: readonly string[];
  readonly secrets: Readonly<Partial<Record<SecretName, string>>>;
}

async function createDatabases(i: PaimonDatabasesInputs): Promise<PaimonDatabasesInputs> {
  const asTable = { ...i, create: "", file: "", declared: { name: "catalog.databases", columns: [], primaryKey: [], partitionKeys: [], options: {} } };
  await inCatalog(asTable, async (run) => {
    for (const db of i.databases) await run(`CREATE DATABASE IF NOT EXISTS ${i.catalogName}.\`${db}\``);
  });
  return i;
}

export const paimonDatabasesProvider: pulumi.dynamic.ResourceProvider<PaimonDatabasesInputs, PaimonDatabasesInputs> = {
  async diff(_id, olds, news) {
    return { changes: news.databases.some((d) => !olds.databases.includes(d)) };
  },
  async create(inputs) {
    return { id: inputs.catalogName, outs: plain(await createDatabases(inputs)) };
  },
  async update(_id, _olds, news) {
    return { outs: plain(await createDatabases(news)) };
  },
  // Databases hold tables: never dropped by Pulumi.
  async delete() {},
};

export class PaimonDatabases extends pulumi.dynamic.Resource {
  constructor(name: string, args: { readonly [K in keyof PaimonDatabasesInputs]: pulumi.Input<PaimonDatabasesInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(paimonDatabasesProvider, name, args, { retainOnDelete: true, ...opts, additionalSecretOutputs: ["secrets"] }, "rtdw", "PaimonDatabases");
  }
}

export type PaimonTableArgs = { readonly [K in keyof Omit<PaimonTableInputs, "plannedAction" | "observed">]: pulumi.Input<PaimonTableInputs[K]> };

export class PaimonTable extends pulumi.dynamic.Resource {
  declare readonly actual: pulumi.Output<TableDecl | undefined>;
  declare readonly applied: pulumi.Output<string[]>;
  declare readonly plannedAction: pulumi.Output<string>;

  constructor(name: string, args: PaimonTableArgs, opts?: pulumi.CustomResourceOptions) {
    super(paimonTableProvider, name, { ...args, observed: undefined, plannedAction: undefined, actual: undefined, applied: undefined }, { retainOnDelete: true, ...opts, additionalSecretOutputs: ["secrets"] }, "rtdw", "PaimonTable");
  }
}
