import * as pulumi from "@pulumi/pulumi";
import { InformationSchemaColumn, planSchemaChange, plannedSchemaAction, SchemaPlan, TableDecl, tableFromInformationSchema } from "../config/tableSchema";
import { connected, Login, plain, qualifiedName, Query, readIfExists, sameQuery, UNKNOWN } from "./mysqlSession";
import { DwsMaterializedView } from "./materializedView";
import { UserGrants } from "./userGrants";
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
export interface DwsViewInputs extends Login {
  /** dws.<view> */
  readonly name: string;
  readonly query: string;
  readonly file: string;
  /** What `up` will do; set by check(). */
  readonly plannedAction?: string;
}


async function viewExists(i: DwsViewInputs, q: Query): Promise<boolean> {
  const [db, view] = i.name.split(".");
  return (await q("SELECT TABLE_NAME FROM information_schema.views WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", [db, view])).length > 0;
}

async function defineView(i: DwsViewInputs): Promise<DwsViewInputs> {
  await connected(i, `${i.file}: ${i.name}`, async (q) => {
    // The query names its tables without a database, as the file does.
    await q(`USE \`${i.name.split(".")[0]}\``);
    // Present already (the bootstrap's, or a rebuild's): brought to the file's query all the same.
    await q(`${(await viewExists(i, q)) ? "ALTER" : "CREATE"} VIEW ${qualifiedName(i.name)} AS ${i.query}`);
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
    return readIfExists(id, props as DwsViewInputs, viewExists);
  },
  async delete() {},
};

export class DwsView extends pulumi.dynamic.Resource {
  declare readonly plannedAction: pulumi.Output<string>;

  constructor(name: string, args: { readonly [K in keyof Omit<DwsViewInputs, "plannedAction">]: pulumi.Input<DwsViewInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(dwsViewProvider, name, { ...args, plannedAction: undefined }, { retainOnDelete: true, ...opts, additionalSecretOutputs: ["password"] }, "rtdw", "DwsView");
  }
}
