import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { forgetStack, pulumi, PulumiResult } from "../../sandbox/engine";
import { sandboxJobEnvironment, sandboxJobSecrets } from "../../sandbox/jobs";
import { renderSql, splitStatements, withSecrets } from "../../components/jobs/render";
import { parseCreateTable, TableDecl } from "../../components/config/tableSchema";
import { renderPreviewReport, surroundings } from "../../scripts/previewReport";
import { eventually, flink, idBlock } from "../helpers/pipelines";
import { copyProject } from "../helpers/project";

/**
 * Tables as code through the real Pulumi engine, on a stack of its own over the running sandbox,
 * from a copy of the project edited as a user would. The copy's catalog has its own key and
 * warehouse path (as a second deployment sharing the metastore would), so the tables it evolves
 * are its own; its job table holds one job, the DWD transform, renamed so it is this run's alone.
 *   up -> rows -> a column added to dwd.users and to the INSERT that fills it: preview shows the
 *   ALTER and one job upgrade (no other job or table), up alters in place and upgrades the job from
 *   its savepoint; new rows carry the column, old rows read NULL -> a dropped column fails preview,
 *   naming table and column, nothing changed -> a widened type is altered in place -> a column added
 *   by hand: refresh and preview report it, up keeps it -> destroy keeps every table.
 */
const STACK = "tables";
const RUN = idBlock(1);
// Named per run: a destroyed stack keeps its jobs' final savepoints by name, and a job of the same name
// created over this run's fresh catalog would resume from the last run's (Paimon: "table had been recreated").
const JOB = `evo-dwd-${RUN}`;
const TABLES = path.join("sql", "warehouse", "tables.sql");
const TRANSFORM = path.join("sql", "warehouse", "dwd_transform.sql");

interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly newState?: { readonly type: string; readonly inputs?: Record<string, unknown> };
}

describe("tables as code: the lake tables' schemas evolve through preview and up, never silently", () => {
  let project: string;
  let catalog: string[];
  const run = async (args: string[]): Promise<PulumiResult> => pulumi(STACK, args, { cwd: project, quiet: true });
  const ok = async (args: string[]): Promise<PulumiResult> => {
    const r = await run(args);
    // The engine's error is in stderr (and in the diagnostics of a JSON preview): shown before the long outputs.
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${r.stderr.slice(-3000)}\n…\n${r.stdout.slice(-3000)}`);
    return r;
  };
  const changed = async (): Promise<PreviewStep[]> => (JSON.parse((await ok(["preview", "--json"])).stdout) as { steps: PreviewStep[] }).steps.filter((s) => s.op !== "same");
  const short = (s: PreviewStep) => `${s.op} ${s.urn.split("::").pop()}`;
  const edit = (file: string, from: string, to: string) => {
    const f = path.join(project, file);
    const text = fs.readFileSync(f, "utf8");
    if (!text.includes(from)) throw new Error(`${file}: "${from}" not found`);
    fs.writeFileSync(f, text.replace(from, to));
  };
  const stateOf = async (suffix: string) => {
    const state = JSON.parse((await ok(["stack", "export"])).stdout) as { deployment: { resources: { urn: string; outputs?: Record<string, unknown> }[] } };
    return state.deployment.resources.find((r) => r.urn.endsWith(suffix));
  };

  /** Statements in this stack's own catalog, through the sandbox's SQL Gateway (batch, synchronous). */
  const sql = async (...statements: string[]): Promise<unknown[][]> => {
    const { gw } = flink();
    const session = await gw.openSession({ "execution.runtime-mode": "batch", "table.dml-sync": "true" }, `table-evolution-${Date.now()}`);
    try {
      for (const s of catalog) await gw.execute(session, withSecrets(s, sandboxJobSecrets()));
      let rows: unknown[][] = [];
      for (const s of statements) rows = (await gw.execute(session, s, {}, 180000)).rows;
      return rows;
    } finally {
      await gw.closeSession(session).catch(() => undefined);
    }
  };
  const tableNow = async (name: string): Promise<TableDecl> => parseCreateTable(String((await sql(`SHOW CREATE TABLE ${name}`))[0][0]));
  let offset = 0;
  /** Change events of shop.users as the ODS job writes them. */
  const insertUsers = (users: { id: number; email: string }[]) =>
    sql(
      `INSERT INTO ods.shop_users VALUES ${users
        .map((u) => `(${u.id}, 'User ${u.id}', '${u.email}', '+86 138 0000 ${u.id % 10000}', 'hangzhou', TIMESTAMP '2026-12-01 10:00:00', TIMESTAMP '2026-12-01 10:00:00', 'c', 0, ${++offset}, CAST(CURRENT_TIMESTAMP AS TIMESTAMP_LTZ(3)), CAST(CURRENT_TIMESTAMP AS TIMESTAMP_LTZ(3)), '2026-12-01', '10')`)
        .join(", ")}`,
    );
  const users = (ids: number[], columns: string) => sql(`SELECT id, ${columns} FROM dwd.users WHERE id IN (${ids.join(", ")}) ORDER BY id`);
  const first = [RUN * 10 + 1, RUN * 10 + 2];
  const later = [RUN * 10 + 3, RUN * 10 + 4];

  beforeAll(async () => {
    project = copyProject("rtdw-tables-", STACK);
    // This stack's own catalog: its own key in the metastore and its own warehouse path.
    edit(path.join("sql", "catalog.sql"), "'catalog-key' = 'rtdw'", `'catalog-key' = 'rtdw_evo_${RUN}'`);
    edit(path.join("sql", "catalog.sql"), "'warehouse' = '${paimon.warehouse}'", `'warehouse' = '\${paimon.warehouse}_evo_${RUN}'`);
    const table = YAML.parse(fs.readFileSync(path.join(project, "sql", "jobs.yaml"), "utf8")) as { jobs: { name: string }[] };
    const transform = table.jobs.find((j) => j.name === "rt-dw-dwd-transform")!;
    fs.writeFileSync(path.join(project, "sql", "jobs.yaml"), YAML.stringify({ jobs: [{ ...transform, name: JOB }] }));
    catalog = splitStatements(renderSql(fs.readFileSync(path.join(project, "sql", "catalog.sql"), "utf8"), sandboxJobEnvironment(), "catalog.sql"));
    await forgetStack(STACK, project);
  }, 120000);

  afterAll(async () => {
    if (project) await run(["destroy", "--yes", "--skip-preview"]).catch(() => undefined);
    // The tables outlive the stack by design; this run's catalog is removed by hand, as an operator would.
    if (catalog) await sql("DROP DATABASE IF EXISTS ods CASCADE", "DROP DATABASE IF EXISTS dwd CASCADE", "DROP DATABASE IF EXISTS dq CASCADE").catch(() => undefined);
    if (project) fs.rmSync(project, { recursive: true, force: true });
  }, 900000);

  it("up creates every table of the pipeline in the catalog, then the job that writes them; rows arrive", async () => {
    const steps = await changed();
    expect(steps.filter((s) => s.urn.includes("rtdw:PaimonTable")).map((s) => s.op)).toEqual(Array(13).fill("create"));
    await ok(["up", "--yes", "--skip-preview"]);
    expect((await tableNow("dwd.users")).columns.map((c) => c.name)).not.toContain("email_domain");
    await insertUsers([
      { id: first[0], email: "Ann@Example.com" },
      { id: first[1], email: "bo@shop.cn" },
    ]);
    const rows = await eventually("the first users in DWD", () => users(first, "email"), (r) => r.length === 2, 180000);
    expect(rows).toEqual([
      [first[0], "ann@example.com"],
      [first[1], "bo@shop.cn"],
    ]);
  }, 900000);

  it("a column added to dwd.users and to its INSERT: preview shows the ALTER and upgrades only its writer; up alters in place, the job resumes from its savepoint, new rows carry the column, old rows read NULL", async () => {
    edit(TABLES, "CREATE TABLE IF NOT EXISTS dwd.users (\n  id BIGINT, name STRING, email STRING,", "CREATE TABLE IF NOT EXISTS dwd.users (\n  id BIGINT, name STRING, email STRING, email_domain STRING,");
    edit(TRANSFORM, "SELECT id, TRIM(name), LOWER(TRIM(email)), ", "SELECT id, TRIM(name), LOWER(TRIM(email)), SPLIT_INDEX(LOWER(TRIM(email)), '@', 1), ");
    const steps = await changed();
    expect(steps.map(short).sort()).toEqual([`update jobs-${JOB}`, "update lake-dwd.users"]);
    const table = steps.find((s) => s.urn.endsWith("lake-dwd.users"))!;
    expect(table.newState?.inputs?.plannedAction).toBe("ALTER in place: add column email_domain STRING after email");
    const job = steps.find((s) => s.urn.endsWith(`jobs-${JOB}`))!;
    expect(String(job.newState?.inputs?.plannedAction)).toMatch(/^savepoint upgrade: stop with a savepoint, resubmit from it \(changed: script \(sql\)\)/);

    // What a reviewer reads: the table's change and the job upgrade, in one report.
    const report = renderPreviewReport(STACK, JSON.parse((await ok(["preview", "--diff", "--json"])).stdout), surroundings(), []);
    expect(report).toContain("add column email_domain STRING after email");

    const before = (await stateOf(`jobs-${JOB}`))!.outputs!.jobId as string;
    await ok(["up", "--yes", "--skip-preview"]);
    const now = await tableNow("dwd.users");
    expect(now.columns.map((c) => c.name).slice(0, 4)).toEqual(["id", "name", "email", "email_domain"]);
    const after = (await stateOf(`jobs-${JOB}`))!.outputs!;
    expect(after.jobId).not.toBe(before);
    expect(after.status).toBe("RUNNING");
    expect((await flink().jm.checkpoints(after.jobId as string)).restored?.path ?? "").toMatch(new RegExp(`/savepoints/${JOB}/savepoint-`));
    expect((await stateOf("lake-dwd.users"))!.outputs!.applied).toEqual(["ALTER TABLE rtdw.`dwd`.`users` ADD (`email_domain` VARCHAR(2147483647) AFTER `email`)"]);

    await insertUsers([
      { id: later[0], email: "Cy@Mail.Example.org" },
      { id: later[1], email: "di@shop.cn" },
    ]);
    const rows = await eventually("the later users in DWD", () => users([...first, ...later], "email, email_domain"), (r) => r.length === 4, 180000);
    expect(rows).toEqual([
      [first[0], "ann@example.com", null],
      [first[1], "bo@shop.cn", null],
      [later[0], "cy@mail.example.org", "mail.example.org"],
      [later[1], "di@shop.cn", "shop.cn"],
    ]);
    expect((await changed()).map(short)).toEqual([]);
  }, 900000);

  it("a dropped column fails preview naming the file, table and column; up changes nothing", async () => {
    const good = fs.readFileSync(path.join(project, TABLES), "utf8");
    edit(TABLES, "email_domain STRING, phone STRING, city STRING,", "email_domain STRING, city STRING,");
    const r = await run(["preview"]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/sql\/warehouse\/tables\.sql: dwd\.users\.phone: dropping or renaming a column is refused/);
    const refused = await run(["up", "--yes"]);
    expect(refused.code).not.toBe(0);
    expect((await tableNow("dwd.users")).columns.map((c) => c.name)).toContain("phone");
    fs.writeFileSync(path.join(project, TABLES), good);
  }, 600000);

  it("a widened type is altered in place; the rows written before read in the new type", async () => {
    await sql("INSERT INTO dq.ods_rejects VALUES ('shop.users', 'not json', 'x', 3, 42, CAST(CURRENT_TIMESTAMP AS TIMESTAMP_LTZ(3)), '2026-12-01')");
    edit(TABLES, "source_table STRING, reason STRING, payload STRING, src_partition INT,", "source_table STRING, reason STRING, payload STRING, src_partition BIGINT,");
    const steps = await changed();
    expect(steps.map(short)).toEqual(["update lake-dq.ods_rejects"]);
    expect(steps[0].newState?.inputs?.plannedAction).toBe("ALTER in place: widen column src_partition INT -> BIGINT");
    await ok(["up", "--yes", "--skip-preview"]);
    expect((await tableNow("dq.ods_rejects")).columns.find((c) => c.name === "src_partition")!.type).toBe("BIGINT");
    await sql("INSERT INTO dq.ods_rejects VALUES ('shop.users', 'not json', 'y', 4000000000, 43, CAST(CURRENT_TIMESTAMP AS TIMESTAMP_LTZ(3)), '2026-12-01')");
    expect(await sql("SELECT src_partition FROM dq.ods_rejects ORDER BY src_offset")).toEqual([[3], [4000000000]]);
  }, 600000);

  it("a column added by hand: refresh records it, preview reports it as drift, up keeps it", async () => {
    await sql("ALTER TABLE dq.ods_rejects ADD (note STRING)");
    await ok(["refresh", "--yes", "--skip-preview"]);
    const steps = await changed();
    expect(steps.map(short)).toEqual(["update lake-dq.ods_rejects"]);
    expect(steps[0].newState?.inputs?.plannedAction).toBe("drift (kept): dq.ods_rejects.note STRING: in the catalog, not in the SQL files (added outside the stack); kept — declare it or drop it by hand");
    await ok(["up", "--yes", "--skip-preview"]);
    expect((await tableNow("dq.ods_rejects")).columns.map((c) => c.name)).toContain("note");
  }, 600000);

  it("destroy stops the job with a savepoint and keeps every table", async () => {
    await ok(["destroy", "--yes", "--skip-preview"]);
    const tables = (await sql("SHOW TABLES FROM dwd")).map((r) => String(r[0]));
    expect(tables).toEqual(expect.arrayContaining(["users", "orders", "products", "order_items", "payments"]));
    expect((await users([...first, ...later], "email")).length).toBe(4);
    expect(await flink().jm.findActive(JOB)).toBeUndefined();
  }, 600000);
});
