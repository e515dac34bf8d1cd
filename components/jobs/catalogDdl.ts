import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { SqlGatewayClient } from "../flink/sqlGateway";
import { withApiAccess } from "../platform/tunnel";
import { JobEnvironment, renderSql, SecretName, splitStatements, withSecrets } from "./render";
import { SQL_DIR } from "../config/jobTable";
import { lakeTables, tableOptions } from "../config/lakehousePolicy";

/**
 * The Paimon catalog and the pipelines' tables, created once before the jobs start (sql/catalog.sql
 * and each pipeline's tables.sql, idempotent DDL). Every job's script runs the same DDL, but eight
 * jobs submitted at once into a fresh catalog race each other creating the JDBC catalog's own tables
 * and the same Paimon tables (PostgreSQL: duplicate key in pg_type; Paimon: "Schema in filesystem
 * exists"): found by the real engine, which creates the jobs in parallel. Run again when the DDL changes.
 */
export interface CatalogDdlInputs {
  readonly sqlGatewayUrl: string;
  readonly tunnel?: { readonly context?: string };
  /** Rendered statements; credentials stay ${secret:...} (substituted when sent). */
  readonly statements: readonly string[];
  readonly secrets: Readonly<Partial<Record<SecretName, string>>>;
}

export function catalogDdl(env: JobEnvironment, pipelines: readonly string[]): string[] {
  const created = ["catalog.sql", ...pipelines.map((p) => path.join(p, "tables.sql"))].flatMap((f) => splitStatements(renderSql(fs.readFileSync(path.join(SQL_DIR, f), "utf8"), env, f)));
  // CREATE TABLE IF NOT EXISTS leaves an existing table's options as they were: the lakehouse policy
  // (rtdw:lakehouse) is set on every table again, so a changed policy reaches tables created before it.
  const policy = lakeTables()
    .filter((t) => pipelines.includes(t.pipeline))
    .map((t) => `ALTER TABLE ${t.name} SET (${Object.entries(tableOptions(t, env.lakehouse)).map(([k, v]) => `'${k}' = '${v.replace(/'/g, "''")}'`).join(", ")})`);
  return [...created, ...policy];
}

async function run(i: CatalogDdlInputs): Promise<void> {
  await withApiAccess([i.sqlGatewayUrl], i.tunnel, async (reach) => {
    const gw = new SqlGatewayClient(reach(i.sqlGatewayUrl));
    const session = await gw.openSession({ "execution.runtime-mode": "batch" }, `rtdw-catalog-ddl-${Date.now()}`);
    try {
      for (const s of i.statements) await gw.execute(session, withSecrets(s, i.secrets), {}, 300000);
    } finally {
      await gw.closeSession(session).catch(() => undefined);
    }
  });
}

export const catalogDdlProvider: pulumi.dynamic.ResourceProvider<CatalogDdlInputs, CatalogDdlInputs> = {
  async diff(_id, olds, news) {
    return { changes: JSON.stringify(olds.statements) !== JSON.stringify(news.statements) || olds.sqlGatewayUrl !== news.sqlGatewayUrl };
  },
  async create(inputs) {
    await run(inputs);
    return { id: "paimon-catalog", outs: inputs };
  },
  async update(_id, _olds, news) {
    await run(news);
    return { outs: news };
  },
  // Tables hold the warehouse's data: never dropped by Pulumi.
  async delete() {},
};

export type CatalogDdlArgs = { readonly [K in keyof CatalogDdlInputs]: pulumi.Input<CatalogDdlInputs[K]> };

export class CatalogDdl extends pulumi.dynamic.Resource {
  constructor(name: string, args: CatalogDdlArgs, opts?: pulumi.CustomResourceOptions) {
    super(catalogDdlProvider, name, args, { ...opts, additionalSecretOutputs: ["secrets"] }, "rtdw", "CatalogDdl");
  }
}
