import * as pulumi from "@pulumi/pulumi";
import { connected, Login, plain, qualifiedName, Query, readIfExists, sameQuery, UNKNOWN } from "./mysqlSession";

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
export interface DwsMaterializedViewInputs extends Login {
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
  const name = qualifiedName(news.name);
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
    return readIfExists(id, props as DwsMaterializedViewInputs, materializedViewExists);
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
