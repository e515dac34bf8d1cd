import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { JobEnvironment, renderSql, SecretName, splitStatements } from "../jobs/render";
import { SQL_DIR } from "../config/jobTable";
import { lakeTables } from "../config/lakehousePolicy";
import { parseCreateTable, TableDecl } from "../config/tableSchema";
import { PaimonDatabases, PaimonTable } from "./paimonTable";

/** The catalog's statements (sql/catalog.sql) and the name it creates. */
export function catalogStatements(env: JobEnvironment): { readonly statements: string[]; readonly name: string } {
  const statements = splitStatements(renderSql(fs.readFileSync(path.join(SQL_DIR, "catalog.sql"), "utf8"), env, "catalog.sql"));
  const name = /^CREATE\s+CATALOG\s+(\w+)/i.exec(statements[0] ?? "")?.[1];
  if (!name) throw new Error("sql/catalog.sql: its first statement must be CREATE CATALOG <name>");
  return { statements, name };
}

export interface TableStatement {
  /** database.table */
  readonly name: string;
  readonly file: string;
  /** CREATE TABLE IF NOT EXISTS as rendered (the lakehouse policy's options filled in). */
  readonly create: string;
  readonly declared: TableDecl;
}

/** Every CREATE TABLE of a pipeline's tables.sql, rendered and read. */
export function tableStatements(env: JobEnvironment, pipeline: string): TableStatement[] {
  const file = path.join(pipeline, "tables.sql");
  return splitStatements(renderSql(fs.readFileSync(path.join(SQL_DIR, file), "utf8"), env, file))
    .filter((s) => /^CREATE\s+TABLE\s/i.test(s))
    .map((create) => {
      const declared = parseCreateTable(create);
      return { name: declared.name, file: `sql/${file}`, create, declared };
    });
}

export interface LakeTablesArgs {
  /** The pipelines whose tables.sql are declared here. */
  readonly pipelines: readonly string[];
  /** The SQL Gateway as the deploying machine reaches it; every table change goes through it. */
  readonly sqlGatewayUrl: pulumi.Input<string>;
  /** Tunnel a cluster-internal URL through the Kubernetes API (kubernetes target). */
  readonly tunnel?: { readonly context?: string };
  /** What the catalog and the tables are rendered with (the catalog's environment: no Kafka user, no sinks). */
  readonly environment: pulumi.Input<JobEnvironment>;
  /** The catalog's credentials, substituted only when a statement is sent. */
  readonly secrets: pulumi.Input<Readonly<Partial<Record<SecretName, string>>>>;
  /** Refuse a `pulumi destroy` of the tables' resources too (prod). Tables are never dropped either way. */
  readonly protect?: boolean;
}

/**
 * The pipelines' Paimon tables, one PaimonTable per CREATE TABLE of their tables.sql (the files
 * are the one source of truth): created before the jobs that use them, changed in place when the
 * files change, never dropped. The jobs' scripts no longer carry this DDL, so a table change
 * upgrades only the jobs whose own SQL or plan changes.
 */
export class LakeTables extends pulumi.ComponentResource {
  /** By database.table. */
  readonly tables: Readonly<Record<string, PaimonTable>>;
  /** The catalog's databases: once created, the catalog's own tables in its metastore exist. */
  readonly databases: PaimonDatabases;

  constructor(name: string, args: LakeTablesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:lakehouse:LakeTables", name, {}, opts);
    const env = pulumi.output(args.environment);
    const tables: Record<string, PaimonTable> = {};
    const declared = lakeTables().filter((x) => args.pipelines.includes(x.pipeline));
    const catalog = env.apply(catalogStatements);
    const databases = new PaimonDatabases(
      `${name}-databases`,
      {
        sqlGatewayUrl: args.sqlGatewayUrl,
        tunnel: args.tunnel,
        catalog: catalog.apply((c) => c.statements),
        catalogName: catalog.apply((c) => c.name),
        databases: [...new Set(declared.map((t) => t.name.split(".")[0]))].sort(),
        secrets: pulumi.secret(args.secrets),
      },
      { parent: this, protect: args.protect },
    );
    this.databases = databases;
    for (const t of declared) {
      const statement = env.apply((e) => {
        const found = tableStatements(e, t.pipeline).find((s) => s.name === t.name);
        if (!found) throw new Error(`sql/${t.pipeline}/tables.sql: ${t.name} is listed by the lakehouse policy but its CREATE TABLE was not read`);
        return found;
      });
      tables[t.name] = new PaimonTable(
        `${name}-${t.name}`,
        {
          sqlGatewayUrl: args.sqlGatewayUrl,
          tunnel: args.tunnel,
          catalog: catalog.apply((c) => c.statements),
          catalogName: catalog.apply((c) => c.name),
          create: statement.apply((s) => s.create),
          declared: statement.apply((s) => s.declared),
          file: `sql/${t.pipeline}/tables.sql`,
          secrets: pulumi.secret(args.secrets),
        },
        { parent: this, protect: args.protect, dependsOn: [databases] },
      );
    }
    this.tables = tables;
    this.registerOutputs({ tables: Object.keys(tables) });
  }
}
