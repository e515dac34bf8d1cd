import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { STARROCKS_BOOTSTRAP, STARROCKS_SQL } from "../../components/starrocks/starrocks";
import { parseStackConfig } from "../../components/config";
import { ofType, Registered, runStack } from "../helpers/mocks";

/**
 * The StarRocks bootstrap task, run as written (bash, perl) with the env the test stack renders,
 * against the CONTRACT STAND-IN of a StarRocks 3.3 FE (tests/contracts/starrocks-fe/mysql: what a
 * real 3.3 FE answered on 2026-12-06, ../shared/reference/starrocks-fe-observed.md). StarRocks cannot
 * run here. The stand-in refuses `SELECT 1` without a live compute node, `IF NOT EXISTS` on catalogs,
 * tables without compute nodes, and lists only the `<db>.db` folders under a catalog's own path.
 */
const FE_MYSQL = path.resolve(__dirname, "../contracts/starrocks-fe/mysql");
const ENDPOINT = "minio.rtdw-test.svc.cluster.local:9000";

type Run = Awaited<ReturnType<typeof runStack>>;
const envOf = (job: Registered): Record<string, string> =>
  Object.fromEntries(
    (job.inputs.spec.template.spec.containers[0].env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value ?? `secret-${e.name.toLowerCase()}-0001`]),
  );

interface Fe {
  dir: string;
  objects: string;
  state: () => { rootPassword: string; computeNodes: { ip: string; alive: boolean }[]; catalogs: Record<string, Record<string, string>>; volumes: Record<string, unknown>; log: string[] };
  run: (env: Record<string, string>, args?: string[]) => { status: number | null; stdout: string; stderr: string };
}

function fe(initial: { rootPassword?: string; computeNodes?: { ip: string; port: number; alive: boolean }[] } = {}, opts: { deadNodes?: string; endpoint?: string } = {}): Fe {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sr-fe-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.symlinkSync(FE_MYSQL, path.join(bin, "mysql"));
  fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify({ rootPassword: initial.rootPassword ?? "", computeNodes: initial.computeNodes ?? [] }));
  const objects = path.join(dir, "objects");
  fs.mkdirSync(objects);
  fs.mkdirSync(path.join(dir, "sql"));
  for (const [f, text] of Object.entries(STARROCKS_SQL)) fs.writeFileSync(path.join(dir, "sql", f), text);
  fs.writeFileSync(path.join(dir, "bootstrap.sh"), STARROCKS_BOOTSTRAP);
  return {
    dir,
    objects,
    state: () => JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8")),
    run: (env, args = []) => {
      const r = spawnSync("bash", [path.join(dir, "bootstrap.sh"), ...args], {
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          SQL_DIR: path.join(dir, "sql"),
          SR_STATE: path.join(dir, "state.json"),
          SR_OBJECTS: objects,
          SR_S3_ENDPOINT: opts.endpoint ?? ENDPOINT,
          SR_DEAD_NODES: opts.deadNodes ?? "",
          RETRY_SECONDS: "0",
          LOGIN_ATTEMPTS: "2",
          CN_WAIT_SECONDS: "1",
          LAKE_WAIT_SECONDS: "1",
          ...env,
        },
        encoding: "utf8",
        timeout: 60000,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

describe("StarRocks bootstrap against the StarRocks 3.3 FE contract (observed 2026-12-06; StarRocks cannot run here)", () => {
  let run: Run;
  let bootstrap: Record<string, string>;
  let lakeCheck: Record<string, string>;
  let jobsWarehouse: string;
  const made: Fe[] = [];
  const make = (...a: Parameters<typeof fe>) => {
    const f = fe(...a);
    made.push(f);
    return f;
  };
  beforeAll(async () => {
    run = await runStack("test", { imageRegistry: "registry.example.com/rtdw", namespace: "rtdw-test" });
    const jobs = ofType(run.registered, "kubernetes:batch/v1:Job");
    bootstrap = envOf(jobs.find((j) => j.name.startsWith("starrocks-bootstrap"))!);
    lakeCheck = envOf(jobs.find((j) => j.name.startsWith("starrocks-lake-check"))!);
    const script = JSON.stringify(ofType(run.registered, "pulumi-nodejs:dynamic/rtdw:FlinkSqlJob")[0].inputs.script);
    jobsWarehouse = /'warehouse' = '([^']+)'/.exec(script)![1];
    bootstrap.S3_ENDPOINT = ENDPOINT; // what the stand-in's object store answers at
    lakeCheck.S3_ENDPOINT = ENDPOINT;
  });
  afterAll(() => made.forEach((f) => fs.rmSync(f.dir, { recursive: true, force: true })));

  /** The lake as the jobs write it: <warehouse>/<db>.db/<table>, at the path their catalog names. */
  const writeLake = (f: Fe, warehouse: string, tables: string[]) => {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(warehouse)!;
    for (const t of tables) {
      const [db, table] = t.split(".");
      fs.mkdirSync(path.join(f.objects, m[1], m[2], `${db}.db`, table), { recursive: true });
    }
  };
  const bucket = (f: Fe, name: string) => fs.mkdirSync(path.join(f.objects, name), { recursive: true });

  it("the contract itself: a fresh FE refuses SELECT 1 (no compute node) but answers SHOW FRONTENDS", () => {
    const f = make();
    const q = (sql: string) => spawnSync(FE_MYSQL, ["-h", "fe", "-N", "-e", sql], { env: { ...process.env, SR_STATE: path.join(f.dir, "state.json"), SR_OBJECTS: f.objects, MYSQL_PWD: "" }, encoding: "utf8" });
    expect(q("SELECT 1")).toMatchObject({ status: 1, stderr: "ERROR 1064 (HY000): Backend node not found. Check if any backend node is down.\n" });
    expect(q("SHOW FRONTENDS")).toMatchObject({ status: 0 });
    expect(q("CREATE EXTERNAL CATALOG IF NOT EXISTS paimon PROPERTIES (\"type\" = \"paimon\")").stderr).toMatch(/Unexpected input 'IF'/);
  });

  it("a fresh cluster: sets root's password, registers the compute nodes and waits for them, then creates everything and reads it back", () => {
    const f = make();
    bucket(f, bootstrap.STARROCKS_BUCKET);
    const r = f.run(bootstrap);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const st = f.state();
    expect(st.rootPassword).toBe(bootstrap.STARROCKS_ROOT_PASSWORD);
    expect(st.computeNodes.map((n) => n.ip)).toEqual(bootstrap.COMPUTE_NODES.split(" "));
    expect(st.computeNodes.every((n) => n.alive)).toBe(true);
    // Nothing that needs a compute node ran before they were alive: the contract would have refused it.
    expect(st.log.indexOf("SHOW COMPUTE NODES")).toBeLessThan(st.log.findIndex((s) => s.startsWith("CREATE TABLE")));
    expect(st.catalogs.paimon["paimon.catalog.warehouse"]).toBe(jobsWarehouse);
    expect(r.stdout).toContain(`StarRocks bootstrap done: ${bootstrap.COMPUTE_NODES.split(" ").length} compute node(s) alive, storage volume written and read, catalog reads ${jobsWarehouse}`);
  });

  it("runs again on a running cluster: no node added twice, the catalog re-created with its current properties", () => {
    const f = make();
    bucket(f, bootstrap.STARROCKS_BUCKET);
    expect(f.run(bootstrap).status).toBe(0);
    const rotated = { ...bootstrap, S3_SECRET_KEY: "rotated-secret-0002" };
    const r = f.run(rotated);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const st = f.state();
    expect(st.computeNodes).toHaveLength(bootstrap.COMPUTE_NODES.split(" ").length);
    expect(st.catalogs.paimon["aws.s3.secret_key"]).toBe("rotated-secret-0002");
    expect(st.log.filter((s) => s === "DROP CATALOG paimon")).toHaveLength(1);
  });

  it("a compute node that never comes alive fails the task naming it", () => {
    const nodes = bootstrap.COMPUTE_NODES.split(" ");
    const f = make({}, { deadNodes: nodes[1] });
    bucket(f, bootstrap.STARROCKS_BUCKET);
    const r = f.run(bootstrap);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`compute node(s) ${nodes[1]} registered but not alive after 1 s`);
    expect(f.state().log.some((s) => s.startsWith("CREATE TABLE"))).toBe(false);
  });

  it("a storage volume on a wrong endpoint or bucket fails the bootstrap, not the first load", () => {
    const wrongEndpoint = make({}, { endpoint: "s3.elsewhere.example.com" });
    bucket(wrongEndpoint, bootstrap.STARROCKS_BUCKET);
    const a = wrongEndpoint.run(bootstrap);
    expect(a.status).toBe(1);
    expect(a.stderr).toContain(`the default storage volume (s3://${bootstrap.STARROCKS_BUCKET}/ at ${ENDPOINT}) could not be written and read back`);
    const noBucket = make();
    const b = noBucket.run(bootstrap);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/could not be written and read back: .*bucket does not exist/);
  });

  it("lake check: passes when the catalog lists every lake table where the jobs write them, and fails naming them otherwise", () => {
    const tables = lakeCheck.LAKE_TABLES.split(" ");
    expect(tables).toEqual(expect.arrayContaining(["ods.shop_orders", "dwd.orders", "ods.tracking_events"]));
    const f = make();
    bucket(f, bootstrap.STARROCKS_BUCKET);
    expect(f.run(bootstrap).status).toBe(0);
    // Before the jobs ran: nothing listed.
    const early = f.run(lakeCheck, ["lake-check"]);
    expect(early.status).toBe(1);
    expect(early.stderr).toContain(`the Paimon catalog (warehouse ${jobsWarehouse}) does not list ${tables.join(" ")}`);
    // Where the jobs write (their catalog's warehouse option): listed.
    writeLake(f, jobsWarehouse, tables);
    const r = f.run(lakeCheck, ["lake-check"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`StarRocks sees the lake: ${tables.length} table(s) under ${jobsWarehouse}`);
  });

  it("lake check: a catalog at the bucket root (the defect found on a real FE) lists no lake database and fails", () => {
    const f = make();
    bucket(f, bootstrap.STARROCKS_BUCKET);
    const bucketRoot = jobsWarehouse.replace(/\/paimon$/, "/");
    expect(f.run({ ...bootstrap, PAIMON_WAREHOUSE: bucketRoot }).status).toBe(0);
    writeLake(f, jobsWarehouse, lakeCheck.LAKE_TABLES.split(" "));
    const r = f.run(lakeCheck, ["lake-check"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/does not list ods\.\w+ .*; it lists databases: *$/m);
  });

  describe("root password (the FE's MySQL-protocol login, checked with SHOW FRONTENDS)", () => {
    it("a current password is left alone (no SET PASSWORD on every run)", () => {
      const f = make({ rootPassword: bootstrap.STARROCKS_ROOT_PASSWORD });
      bucket(f, bootstrap.STARROCKS_BUCKET);
      expect(f.run(bootstrap).status).toBe(0);
      expect(f.state().log.filter((s) => s.startsWith("SET PASSWORD"))).toHaveLength(0);
    });

    it("rotates: logs in with rtdw:starrocksRootPasswordPrevious and sets the new one", () => {
      const f = make({ rootPassword: "oldRootPassword1234" });
      bucket(f, bootstrap.STARROCKS_BUCKET);
      const r = f.run({ ...bootstrap, STARROCKS_ROOT_PASSWORD_PREVIOUS: "oldRootPassword1234" });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/root password rotated; remove rtdw:starrocksRootPasswordPrevious/);
      expect(f.state().rootPassword).toBe(bootstrap.STARROCKS_ROOT_PASSWORD);
    });

    it("a password changed outside the stack fails with what to do, and changes nothing", () => {
      const f = make({ rootPassword: "someoneElses12345678" });
      const r = f.run({ ...bootstrap, STARROCKS_ROOT_PASSWORD_PREVIOUS: "oldRootPassword1234" });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/root could not log in within 5 minutes with the current password, the previous one \(rtdw:starrocksRootPasswordPrevious\), or an empty one/);
      expect(f.state().rootPassword).toBe("someoneElses12345678");
      expect(r.stderr).not.toContain(bootstrap.STARROCKS_ROOT_PASSWORD);
    });
  });

  const cfg = (values: Record<string, string>) => {
    const all = { "rtdw:target": "kubernetes", "rtdw:imageRegistry": "registry.example.com/rtdw", "rtdw:sourcePassword": "x", "rtdw:source": JSON.stringify({ host: "h", database: "d", user: "u" }), ...values };
    return parseStackConfig("rtdw", "test", all, new Set(Object.keys(all).filter((k) => /Password/.test(k))));
  };

  it("re-runs the bootstrap when the supplied password changes (a digest in the task's revision, never the value)", () => {
    const a = cfg({ "rtdw:starrocksRootPassword": "firstRootPassword123" }).starrocksRootRevision;
    const b = cfg({ "rtdw:starrocksRootPassword": "otherRootPassword123", "rtdw:starrocksRootPasswordPrevious": "firstRootPassword123" }).starrocksRootRevision;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(cfg({}).starrocksRootRevision).toBe("generated");
  });

  it("refuses a previous password without a new one, naming both keys", () => {
    expect(() => cfg({ "rtdw:starrocksRootPasswordPrevious": "firstRootPassword123" })).toThrow(/rtdw:starrocksRootPasswordPrevious: only used while rotating: set rtdw:starrocksRootPassword to the new password too/);
  });
});
