import * as pulumi from "@pulumi/pulumi";
import { InformationSchemaColumn, planSchemaChange, plannedSchemaAction, SchemaPlan, TableDecl, tableFromInformationSchema } from "../config/tableSchema";
import { withApiAccess } from "../platform/tunnel";
import { DWS_FILE, dwsMaterializedViewDeclarations, dwsTableDeclarations, dwsViewDeclarations, USERS_FILE, userGrantsDeclarations } from "../config/dwsTables";

/**
 * One DWS table (sql/starrocks/10_dws.sql) as a resource, the way PaimonTable is one lake table: its
 * desired schema is its CREATE TABLE in the file, its actual one what information_schema.columns
 * answers over the MySQL protocol (StarRocks' FE, or the MySQL-protocol stand-in where StarRocks
 * cannot run). `up` creates it if absent and otherwise adds columns and widens types in place
 * (ALTER TABLE … ADD COLUMN / MODIFY COLUMN); preview names the ALTERs and fails on a dropped or
 * renamed column, a narrowed type or a changed key or distribution, naming table and column, before
 * anything is created. A refresh that finds a column added by hand reports it (kept). Never dropped.
 *
 * StarRocks itself cannot run here: on StarRocks the statements are the ones rendered (unit-tested),
 * not run; the same resource runs them on the sandbox's MariaDB stand-in.
 */
export interface DwsTableInputs {
  /** mysql://host:port of the FE's query port (a cluster-internal name is reached through the tunnel). */
  readonly address: string;
  readonly tunnel?: { readonly context?: string };
  /** The user that owns the DWS schema (StarRocks' root on the stacks; never a loader). */
  readonly user: string;
  readonly password: string;
  /** The table's CREATE TABLE IF NOT EXISTS in the dialect of the server it runs on. */
  readonly create: string;
  /** The statement in the file, read: what preview compares. */
  readonly declared: TableDecl;
  /** The file that declares it, for messages. */
  readonly file: string;
  /** The table as a refresh found it, where it differs from `declared`; only read() sets it. */
  readonly observed?: TableDecl;
  /** What `up` will do; set by check() so the preview shows it. */
  readonly plannedAction?: string;
}

export interface DwsTableOutputs extends DwsTableInputs {
  readonly actual?: TableDecl;
  readonly applied?: readonly string[];
}

/** Waiting for a server that may be created in the same `up`. */
const CONNECT_ATTEMPTS = 30;
/** A value the engine does not know yet (a preview before the platform exists). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

type Query = (sql: string, values?: unknown[]) => Promise<unknown[]>;

/** Where and as whom a DWS object is reached. */
type Login = Pick<DwsTableInputs, "address" | "tunnel" | "user" | "password">;

async function connected<T>(i: Login, what: string, fn: (q: Query) => Promise<T>): Promise<T> {
  const url = i.address.replace(/^mysql:/, "http:");
  return withApiAccess([url], i.tunnel, async (reach) => {
    const u = new URL(reach(url));
    const mysql = require("mysql2/promise") as typeof import("mysql2/promise");
    let conn: import("mysql2/promise").Connection | undefined;
    for (let attempt = 1; !conn; attempt++) {
      try {
        conn = await mysql.createConnection({ host: u.hostname, port: Number(u.port), user: i.user, password: i.password, connectTimeout: 5000 });
      } catch (e) {
        const code = (e as { code?: string }).code;
        // A wrong password is not going to get better; a server still starting may.
        if (attempt >= CONNECT_ATTEMPTS || code === "ER_ACCESS_DENIED_ERROR") throw new Error(`${what}: cannot log in to ${i.address} as ${i.user}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 10000)));
      }
    }
    try {
      return await fn(async (sql, values) => (await conn!.query(sql, values))[0] as unknown[]);
    } finally {
      await conn.end().catch(() => undefined);
    }
  });
}

async function actualTable(i: DwsTableInputs, q: Query, distributedBy: readonly string[]): Promise<TableDecl | undefined> {
  const [db, table] = i.declared.name.split(".");
  const rows = (await q(
    "SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, COLUMN_KEY, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, COLUMN_COMMENT FROM information_schema.columns WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    [db, table],
  )) as InformationSchemaColumn[];
  return rows.length ? tableFromInformationSchema(i.declared.name, rows, distributedBy) : undefined;
}

const refusal = (i: DwsTableInputs, plan: SchemaPlan) => new Error(`${i.file}: ${i.declared.name} cannot be changed that way — ${plan.refused.join("; ")}. Nothing was changed.`);

async function reconcile(i: DwsTableInputs, declaredBefore: TableDecl | undefined): Promise<DwsTableOutputs> {
  return connected(i, `${i.file}: ${i.declared.name}`, async (q) => {
    const [db] = i.declared.name.split(".");
    // information_schema does not say how a table is distributed: it is taken to be as declared before.
    const distributedBy = (declaredBefore ?? i.declared).partitionKeys;
    let actual = await actualTable(i, q, distributedBy);
    if (!actual) {
      await q(`CREATE DATABASE IF NOT EXISTS \`${db}\``);
      await q(`USE \`${db}\``);
      await q(i.create);
      return { ...i, observed: undefined, plannedAction: undefined, actual: await actualTable(i, q, i.declared.partitionKeys), applied: [] };
    }
    const plan = planSchemaChange(actual, i.declared, "", declaredBefore ?? i.declared, "mysql");
    if (plan.refused.length) throw refusal(i, plan);
    for (const s of plan.statements) await q(s);
    if (plan.statements.length) actual = await actualTable(i, q, distributedBy);
    return { ...i, observed: undefined, plannedAction: undefined, actual, applied: plan.statements };
  });
}

const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** What preview says `up` will do, from the previous declaration (or the server's table as last refreshed). */
export function plannedDwsAction(olds: DwsTableInputs | undefined, news: DwsTableInputs): { action: string; plan?: SchemaPlan } {
  return plannedSchemaAction(olds?.declared ? olds : undefined, news.declared, "", "mysql");
}

export const dwsTableProvider: pulumi.dynamic.ResourceProvider<DwsTableInputs, DwsTableOutputs> = {
  async check(olds, news) {
    const { action, plan } = plannedDwsAction(olds?.declared ? olds : undefined, news);
    const failures = (plan?.refused ?? []).map((reason) => ({ property: "declared", reason: `${news.file}: ${reason}` }));
    return { inputs: plain({ ...news, observed: undefined, plannedAction: action }), failures };
  },
  async diff(_id, olds, news) {
    const declared = JSON.stringify(olds.declared) !== JSON.stringify(news.declared);
    const moved = olds.address !== news.address && !news.address.includes(UNKNOWN);
    return { changes: declared || olds.observed !== undefined || moved || olds.user !== news.user };
  },
  async create(inputs) {
    return { id: inputs.declared.name, outs: plain(await reconcile(inputs, undefined)) };
  },
  async update(_id, olds, news) {
    return { outs: plain(await reconcile(news, olds.declared)) };
  },
  async read(id, props) {
    const p = props as DwsTableOutputs;
    const actual = await connected(p, `${p.file}: ${p.declared.name}`, (q) => actualTable(p, q, p.declared.partitionKeys));
    if (!actual) return {};
    const same = planSchemaChange(actual, p.declared, "", p.declared, "mysql");
    const observed = same.statements.length || same.drift.length || same.refused.length ? actual : undefined;
    const inputs = plain({ ...p, actual: undefined, applied: undefined, observed });
    return { id, props: plain({ ...p, actual, observed }), inputs: inputs as unknown as DwsTableOutputs };
  },
  // A DWS table holds the dashboards' data: never dropped by Pulumi.
  async delete() {},
};

export type DwsTableArgs = { readonly [K in keyof Omit<DwsTableInputs, "plannedAction" | "observed">]: pulumi.Input<DwsTableInputs[K]> };

export class DwsTable extends pulumi.dynamic.Resource {
  declare readonly actual: pulumi.Output<TableDecl | undefined>;
  declare readonly applied: pulumi.Output<string[]>;
  declare readonly plannedAction: pulumi.Output<string>;

  constructor(name: string, args: DwsTableArgs, opts?: pulumi.CustomResourceOptions) {
    super(dwsTableProvider, name, { ...args, observed: undefined, plannedAction: undefined, actual: undefined, applied: undefined }, { retainOnDelete: true, ...opts, additionalSecretOutputs: ["password"] }, "rtdw", "DwsTable");
  }
}

export interface DwsTablesArgs {
  /** mysql://host:port of the server's query port, as the deploying machine reaches it. */
  readonly address: pulumi.Input<string>;
  /** Set on Kubernetes stacks: the address is reached through the API server. */
  readonly tunnel?: { readonly context?: string };
  /** The schema's owner (StarRocks' root on the stacks); never a loader or a reader. */
  readonly user: pulumi.Input<string>;
  readonly password: pulumi.Input<string>;
  /** Which CREATE TABLE runs: StarRocks' own, or the MySQL form on a stand-in (the sandbox, which has no materialized views). */
  readonly server: "starrocks" | "mysql";
  /** How often StarRocks refreshes the materialized views (rtdw:lakehouse.materializedViewRefresh); StarRocks only. */
  readonly materializedViewRefreshMinutes?: number;
}

/**
 * One DwsTable per table of sql/starrocks/10_dws.sql, by dws.<table> (the DWS jobs wait for theirs), one
 * DwsView per view; on StarRocks also one DwsMaterializedView per materialized view and one UserGrants
 * per user of sql/starrocks/90_users.sql.
 */
export class DwsTables extends pulumi.ComponentResource {
  readonly tables: Readonly<Record<string, DwsTable>>;
  readonly views: Readonly<Record<string, DwsView>>;
  readonly materializedViews: Readonly<Record<string, DwsMaterializedView>>;
  readonly grants: Readonly<Record<string, UserGrants>>;

  constructor(name: string, args: DwsTablesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:starrocks:DwsTables", name, {}, opts);
    this.tables = Object.fromEntries(
      dwsTableDeclarations().map((t) => [
        t.name,
        new DwsTable(
          `${name}-${t.name.split(".")[1].replace(/_/g, "-")}`,
          {
            address: args.address,
            tunnel: args.tunnel,
            user: args.user,
            password: pulumi.secret(args.password),
            create: args.server === "starrocks" ? t.create : t.createMysql,
            declared: t.declared,
            file: `sql/${DWS_FILE}`,
          },
          { parent: this },
        ),
      ]),
    );
    // Views read the tables: defined after them.
    this.views = Object.fromEntries(
      dwsViewDeclarations().map((v) => [
        v.name,
        new DwsView(
          `${name}-${v.name.split(".")[1].replace(/_/g, "-")}`,
          { address: args.address, tunnel: args.tunnel, user: args.user, password: pulumi.secret(args.password), name: v.name, query: v.query, file: `sql/${DWS_FILE}` },
          { parent: this, dependsOn: Object.values(this.tables) },
        ),
      ]),
    );
    const refresh = args.materializedViewRefreshMinutes;
    if (args.server === "starrocks" && refresh === undefined) throw new Error("DwsTables on StarRocks: materializedViewRefreshMinutes is required");
    this.materializedViews =
      args.server === "starrocks"
        ? Object.fromEntries(
            dwsMaterializedViewDeclarations().map((m) => [
              m.name,
              new DwsMaterializedView(
                `${name}-${m.name.split(".")[1].replace(/_/g, "-")}`,
                { address: args.address, tunnel: args.tunnel, user: args.user, password: pulumi.secret(args.password), name: m.name, query: m.query, refreshMinutes: refresh!, file: `sql/${DWS_FILE}` },
                { parent: this, dependsOn: Object.values(this.tables) },
              ),
            ]),
          )
        : {};
    // Grants on the objects above, after them (ALL … IN DATABASE covers what exists when it runs).
    this.grants =
      args.server === "starrocks"
        ? Object.fromEntries(
            userGrantsDeclarations().map((u) => [
              u.grantee,
              new UserGrants(
                `${name}-grants-${/^'([^']+)'/.exec(u.grantee)![1].replace(/_/g, "-")}`,
                { address: args.address, tunnel: args.tunnel, user: args.user, password: pulumi.secret(args.password), grantee: u.grantee, grants: u.grants, file: `sql/${USERS_FILE}` },
                { parent: this, dependsOn: [...Object.values(this.tables), ...Object.values(this.views), ...Object.values(this.materializedViews)] },
              ),
            ]),
          )
        : {};
    this.registerOutputs({});
  }
}

/**
 * One DWS view (sql/starrocks/10_dws.sql) as a resource: a changed query in the file is an
 * `ALTER VIEW … AS <query>` at `up` (the bootstrap's CREATE VIEW IF NOT EXISTS would leave the old one
 * in place, silently), shown in preview. A view holds no data; removed from the file it is kept all the
 * same, since dashboards may query it.
 */
export interface DwsViewInputs {
  readonly address: string;
  readonly tunnel?: { readonly context?: string };
  readonly user: string;
  readonly password: string;
  /** dws.<view> */
  readonly name: string;
  readonly query: string;
  readonly file: string;
  /** What `up` will do; set by check(). */
  readonly plannedAction?: string;
}

const sameQuery = (a: string, b: string) => a.replace(/\s+/g, " ").trim() === b.replace(/\s+/g, " ").trim();
const qualifiedView = (name: string) => name.split(".").map((p) => `\`${p}\``).join(".");

async function viewExists(i: DwsViewInputs, q: Query): Promise<boolean> {
  const [db, view] = i.name.split(".");
  return (await q("SELECT TABLE_NAME FROM information_schema.views WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", [db, view])).length > 0;
}

async function defineView(i: DwsViewInputs): Promise<DwsViewInputs> {
  await connected(i, `${i.file}: ${i.name}`, async (q) => {
    // The query names its tables without a database, as the file does.
    await q(`USE \`${i.name.split(".")[0]}\``);
    // Present already (the bootstrap's, or a rebuild's): brought to the file's query all the same.
    await q(`${(await viewExists(i, q)) ? "ALTER" : "CREATE"} VIEW ${qualifiedView(i.name)} AS ${i.query}`);
  });
  return { ...i, plannedAction: undefined };
}

export const dwsViewProvider: pulumi.dynamic.ResourceProvider<DwsViewInputs, DwsViewInputs> = {
  async check(olds, news) {
    const action = !olds?.query ? `create ${news.name} (or redefine it as the file says)` : sameQuery(olds.query, news.query) ? "no change" : `ALTER VIEW ${news.name}: its query changed`;
    return { inputs: plain({ ...news, plannedAction: action }) };
  },
  async diff(_id, olds, news) {
    const moved = olds.address !== news.address && !news.address.includes(UNKNOWN);
    return { changes: !sameQuery(olds.query, news.query) || moved || olds.user !== news.user };
  },
  async create(inputs) {
    return { id: inputs.name, outs: plain(await defineView(inputs)) };
  },
  async update(_id, _olds, news) {
    return { outs: plain(await defineView(news)) };
  },
  async read(id, props) {
    const p = props as DwsViewInputs;
    // Dropped by hand: gone from the state, so the next `up` creates it again.
    return (await connected(p, `${p.file}: ${p.name}`, (q) => viewExists(p, q))) ? { id, props: p } : {};
  },
  async delete() {},
};

export class DwsView extends pulumi.dynamic.Resource {
  declare readonly plannedAction: pulumi.Output<string>;

  constructor(name: string, args: { readonly [K in keyof Omit<DwsViewInputs, "plannedAction">]: pulumi.Input<DwsViewInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(dwsViewProvider, name, { ...args, plannedAction: undefined }, { retainOnDelete: true, ...opts, additionalSecretOutputs: ["password"] }, "rtdw", "DwsView");
  }
}

/**
 * One asynchronous materialized view (sql/starrocks/10_dws.sql) as a resource. The bootstrap's
 * `CREATE MATERIALIZED VIEW IF NOT EXISTS` leaves an existing view as it is, so a query changed in the
 * file would never reach StarRocks, silently. Here:
 *  - a changed refresh interval (rtdw:lakehouse.materializedViewRefresh) is an `ALTER MATERIALIZED VIEW … REFRESH`;
 *  - a changed query is a rebuild, stated in preview: StarRocks cannot alter a view's query, and a
 *    materialized view holds only rows derived from its base tables, so it is dropped and created again
 *    and its first refresh fills it (what reads it sees no rows until then);
 *  - one dropped by hand is created again by the next `up`; one removed from the file is kept.
 * StarRocks only (the sandbox's MySQL stand-in has no materialized views): on StarRocks these are the
 * statements rendered here (unit-tested), not run.
 */
export interface DwsMaterializedViewInputs {
  readonly address: string;
  readonly tunnel?: { readonly context?: string };
  readonly user: string;
  readonly password: string;
  /** dws.<mv> */
  readonly name: string;
  readonly query: string;
  readonly refreshMinutes: number;
  readonly file: string;
  /** What `up` will do; set by check(). */
  readonly plannedAction?: string;
}

type MaterializedView = Pick<DwsMaterializedViewInputs, "name" | "query" | "refreshMinutes">;

const refreshClause = (minutes: number) => `REFRESH ASYNC EVERY (INTERVAL ${minutes} MINUTE)`;

/** The statements that bring StarRocks from `olds` (the last applied, if any) to `news`, given whether the view exists there. */
export function materializedViewStatements(olds: MaterializedView | undefined, news: MaterializedView, exists: boolean): string[] {
  const name = qualifiedView(news.name);
  const create = `CREATE MATERIALIZED VIEW ${name} ${refreshClause(news.refreshMinutes)} AS ${news.query}`;
  if (!exists) return [create];
  // Found without a record of its query (the bootstrap's, or a lost state): adopted as the file's, its refresh set.
  if (olds && !sameQuery(olds.query, news.query)) return [`DROP MATERIALIZED VIEW IF EXISTS ${name}`, create];
  if (!olds || olds.refreshMinutes !== news.refreshMinutes) return [`ALTER MATERIALIZED VIEW ${name} ${refreshClause(news.refreshMinutes)}`];
  return [];
}

/** What preview says `up` will do. */
export function plannedMaterializedViewAction(olds: MaterializedView | undefined, news: MaterializedView): string {
  if (!olds?.query) return `create ${news.name} (refreshed every ${news.refreshMinutes} min), or adopt the one there and set its refresh`;
  if (!sameQuery(olds.query, news.query)) {
    return `REBUILD ${news.name}: its query changed; StarRocks cannot alter it, so it is dropped and created again (it holds only rows derived from its base tables; its first refresh fills it, and readers see no rows until then)`;
  }
  return olds.refreshMinutes !== news.refreshMinutes ? `ALTER MATERIALIZED VIEW ${news.name} ${refreshClause(news.refreshMinutes)} (was every ${olds.refreshMinutes} min)` : "no change";
}

async function materializedViewExists(i: DwsMaterializedViewInputs, q: Query): Promise<boolean> {
  const [db, mv] = i.name.split(".");
  return (await q("SELECT TABLE_NAME FROM information_schema.materialized_views WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", [db, mv])).length > 0;
}

async function defineMaterializedView(olds: DwsMaterializedViewInputs | undefined, news: DwsMaterializedViewInputs): Promise<DwsMaterializedViewInputs> {
  await connected(news, `${news.file}: ${news.name}`, async (q) => {
    // The query names its tables without a database, as the file does.
    await q(`USE \`${news.name.split(".")[0]}\``);
    for (const statement of materializedViewStatements(olds, news, await materializedViewExists(news, q))) await q(statement);
  });
  return { ...news, plannedAction: undefined };
}

export const dwsMaterializedViewProvider: pulumi.dynamic.ResourceProvider<DwsMaterializedViewInputs, DwsMaterializedViewInputs> = {
  async check(olds, news) {
    return { inputs: plain({ ...news, plannedAction: plannedMaterializedViewAction(olds?.query ? olds : undefined, news) }) };
  },
  async diff(_id, olds, news) {
    const moved = olds.address !== news.address && !news.address.includes(UNKNOWN);
    return { changes: !sameQuery(olds.query, news.query) || olds.refreshMinutes !== news.refreshMinutes || moved || olds.user !== news.user };
  },
  async create(inputs) {
    return { id: inputs.name, outs: plain(await defineMaterializedView(undefined, inputs)) };
  },
  async update(_id, olds, news) {
    return { outs: plain(await defineMaterializedView(olds, news)) };
  },
  async read(id, props) {
    const p = props as DwsMaterializedViewInputs;
    // Dropped by hand: gone from the state, so the next `up` creates it again.
    return (await connected(p, `${p.file}: ${p.name}`, (q) => materializedViewExists(p, q))) ? { id, props: p } : {};
  },
  // Dashboards may read it: kept when removed from the file.
  async delete() {},
};

export class DwsMaterializedView extends pulumi.dynamic.Resource {
  declare readonly plannedAction: pulumi.Output<string>;

  constructor(name: string, args: { readonly [K in keyof Omit<DwsMaterializedViewInputs, "plannedAction">]: pulumi.Input<DwsMaterializedViewInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(dwsMaterializedViewProvider, name, { ...args, plannedAction: undefined }, { retainOnDelete: true, ...opts, additionalSecretOutputs: ["password"] }, "rtdw", "DwsMaterializedView");
  }
}

/**
 * One StarRocks user's grants (sql/starrocks/90_users.sql) as a resource. The bootstrap creates the
 * users, sets their passwords and runs the file's GRANTs, but a grant removed from the file stayed
 * granted, silently, for ever. Here a grant removed from the file is revoked at `up`, a grant added is
 * granted, and preview lists both; a user removed from the file loses every grant it had (its login is
 * left to the operators). StarRocks only (the sandbox's MySQL stand-in has its own users): on StarRocks
 * these are the statements rendered here (unit-tested), not run.
 */
export interface UserGrantsInputs {
  readonly address: string;
  readonly tunnel?: { readonly context?: string };
  /** Who grants: StarRocks' root (user_admin). */
  readonly user: string;
  readonly password: string;
  /** 'user'@'host' */
  readonly grantee: string;
  /** "<privileges> ON <objects>", one per GRANT of the file. */
  readonly grants: readonly string[];
  readonly file: string;
  /** What `up` will do; set by check(). */
  readonly plannedAction?: string;
}

/** The GRANTs and REVOKEs that bring a user from the grants last applied (none on create) to the file's. */
export function grantStatements(grantee: string, before: readonly string[], after: readonly string[]): string[] {
  const norm = (g: string) => g.replace(/\s+/g, " ").trim();
  const had = new Set(before.map(norm));
  const wants = new Set(after.map(norm));
  return [...[...had].filter((g) => !wants.has(g)).map((g) => `REVOKE ${g} FROM USER ${grantee}`), ...[...wants].filter((g) => !had.has(g)).map((g) => `GRANT ${g} TO USER ${grantee}`)];
}

async function applyGrants(i: UserGrantsInputs, statements: readonly string[]): Promise<void> {
  if (!statements.length) return;
  await connected(i, `${i.file}: ${i.grantee}`, async (q) => {
    for (const s of statements) await q(s);
  });
}

export const userGrantsProvider: pulumi.dynamic.ResourceProvider<UserGrantsInputs, UserGrantsInputs> = {
  async check(olds, news) {
    const planned = grantStatements(news.grantee, olds?.grants ?? [], news.grants);
    return { inputs: plain({ ...news, plannedAction: planned.length ? planned.join("; ") : "no change" }) };
  },
  async diff(_id, olds, news) {
    const moved = olds.address !== news.address && !news.address.includes(UNKNOWN);
    return { changes: grantStatements(news.grantee, olds.grants, news.grants).length > 0 || moved || olds.user !== news.user, replaces: olds.grantee !== news.grantee ? ["grantee"] : [] };
  },
  async create(inputs) {
    await applyGrants(inputs, grantStatements(inputs.grantee, [], inputs.grants));
    return { id: inputs.grantee, outs: plain({ ...inputs, plannedAction: undefined }) };
  },
  async update(_id, olds, news) {
    await applyGrants(news, grantStatements(news.grantee, olds.grants, news.grants));
    return { outs: plain({ ...news, plannedAction: undefined }) };
  },
  // Least privilege: a user gone from the file keeps no grant.
  async delete(_id, props) {
    await applyGrants(props, grantStatements(props.grantee, props.grants, []));
  },
};

export class UserGrants extends pulumi.dynamic.Resource {
  declare readonly plannedAction: pulumi.Output<string>;

  constructor(name: string, args: { readonly [K in keyof Omit<UserGrantsInputs, "plannedAction">]: pulumi.Input<UserGrantsInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(userGrantsProvider, name, { ...args, plannedAction: undefined }, { ...opts, additionalSecretOutputs: ["password"] }, "rtdw", "UserGrants");
  }
}
