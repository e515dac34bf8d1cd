import * as YAML from "yaml";
import { DWS_READER_USER, DWS_WRITER_USER, STARROCKS_SQL } from "../../components/starrocks/starrocks";
import { mockPassword, ofType, Registered, runStack } from "../helpers/mocks";
import { userGrantsDeclarations } from "../../components/config/dwsTables";
import { grantStatements, userGrantsProvider } from "../../components/starrocks/userGrants";

/**
 * StarRocks users per client, checked on what the test stack registers (Pulumi mocks) and, for the
 * statements, against StarRocks 3.3's documented grammar (CREATE USER [IF NOT EXISTS], ALTER USER,
 * GRANT <privileges> ON ALL {TABLES|VIEWS|MATERIALIZED VIEWS} IN DATABASE): StarRocks cannot run here.
 */
type Run = Awaited<ReturnType<typeof runStack>>;

const USERS_SQL = STARROCKS_SQL["90_users.sql"];
const statements = USERS_SQL.replace(/--.*$/gm, "")
  .split(";")
  .map((s) => s.replace(/\s+/g, " ").trim())
  .filter(Boolean);

describe("StarRocks users per client (StarRocks 3.3 grammar as documented; StarRocks cannot run here)", () => {
  let run: Run;
  beforeAll(async () => {
    run = await runStack("test", { imageRegistry: "registry.example.com/rtdw", namespace: "rtdw-test" });
  });

  it("creates the users after the tables, grants on the dws database only, and never an administrative privilege", () => {
    expect(Object.keys(STARROCKS_SQL).sort().pop()).toBe("90_users.sql");
    const documented = [
      /^CREATE USER IF NOT EXISTS '(\w+)'@'%' IDENTIFIED BY '\$\{(\w+)\}'$/,
      /^ALTER USER '(\w+)'@'%' IDENTIFIED BY '\$\{(\w+)\}'$/,
      /^GRANT ((SELECT|INSERT|UPDATE|DELETE)(, (SELECT|INSERT|UPDATE|DELETE))*) ON ALL (TABLES|VIEWS|MATERIALIZED VIEWS) IN DATABASE dws TO USER '(\w+)'@'%'$/,
    ];
    for (const s of statements) expect({ s, documented: documented.some((re) => re.test(s)) }).toEqual({ s, documented: true });
    const grants = statements.filter((s) => s.startsWith("GRANT"));
    const of = (user: string) => grants.filter((g) => g.endsWith(`'${user}'@'%'`)).map((g) => /^GRANT (.*) ON ALL (.*) IN DATABASE dws/.exec(g)!.slice(1, 3).join(" on "));
    expect(of(DWS_WRITER_USER)).toEqual(["SELECT, INSERT, UPDATE, DELETE on TABLES"]);
    expect(of(DWS_READER_USER)).toEqual(["SELECT on TABLES", "SELECT on VIEWS", "SELECT on MATERIALIZED VIEWS"]);
    expect(statements.join(";\n")).not.toMatch(/ALL PRIVILEGES|GRANT\s+\w*\s*ROLE|root|user_admin|db_admin|cluster_admin|ON \*\.\*|ON SYSTEM|ON CATALOG/i);
  });

  // StarRocks cannot run here: these are the RENDERED statements, not run.
  it("each user's grants are a resource: a grant removed from the file is revoked at up, one added granted, both named in preview", async () => {
    const users = userGrantsDeclarations();
    expect(users.map((u) => u.grantee)).toEqual([`'${DWS_WRITER_USER}'@'%'`, `'${DWS_READER_USER}'@'%'`]);
    const reader = users[1];
    expect(reader.grants).toEqual(["SELECT ON ALL TABLES IN DATABASE dws", "SELECT ON ALL VIEWS IN DATABASE dws", "SELECT ON ALL MATERIALIZED VIEWS IN DATABASE dws"]);
    expect(grantStatements(reader.grantee, [], reader.grants)).toEqual(reader.grants.map((g) => `GRANT ${g} TO USER '${DWS_READER_USER}'@'%'`));
    expect(grantStatements(reader.grantee, reader.grants, reader.grants.map((g) => g.replace(/ /g, "  ")))).toEqual([]);
    const narrower = reader.grants.slice(0, 2);
    expect(grantStatements(reader.grantee, reader.grants, narrower)).toEqual([`REVOKE SELECT ON ALL MATERIALIZED VIEWS IN DATABASE dws FROM USER '${DWS_READER_USER}'@'%'`]);
    const base = { address: "mysql://fe:9030", user: "root", password: "p", grantee: reader.grantee, grants: reader.grants, file: "sql/starrocks/90_users.sql" };
    const check = await userGrantsProvider.check!(base, { ...base, grants: [...narrower, "SELECT ON ALL TABLES IN DATABASE quality"] });
    expect(check.inputs?.plannedAction).toBe(`REVOKE SELECT ON ALL MATERIALIZED VIEWS IN DATABASE dws FROM USER '${DWS_READER_USER}'@'%'; GRANT SELECT ON ALL TABLES IN DATABASE quality TO USER '${DWS_READER_USER}'@'%'`);
    expect((await userGrantsProvider.diff!("x", base, { ...base, grants: narrower })).changes).toBe(true);
    expect((await userGrantsProvider.diff!("x", base, { ...base })).changes).toBe(false);
    expect(() => userGrantsDeclarations("GRANT SELECT ON ALL TABLES IN DATABASE dws TO USER 'stranger'@'%';")).toThrow(/GRANT to 'stranger'@'%', a user the file does not create/);
    // Registered per user on the stack, as root through the tunnel, its password a secret.
    const registered = ofType(run.registered, "pulumi-nodejs:dynamic/rtdw:UserGrants");
    expect(registered.map((r) => [r.inputs.grantee, r.inputs.grants])).toEqual(users.map((u) => [u.grantee, u.grants]));
    for (const r of registered) {
      expect(r.inputs).toMatchObject({ user: "root", tunnel: {}, file: "sql/starrocks/90_users.sql" });
      expect(r.secretPaths).toContain("password");
    }
  });

  it("the DWS sinks load as the writer, with its password, and no job is given root's", () => {
    const jobs = ofType(run.registered, "pulumi-nodejs:dynamic/rtdw:FlinkSqlJob");
    const dwsJobs = jobs.filter((j) => JSON.stringify(j.inputs.script).includes("'connector' = 'starrocks'"));
    expect(dwsJobs.length).toBeGreaterThan(0);
    const writerPassword = secretOf(run, "starrocks-dws-writer-password");
    for (const j of dwsJobs) {
      expect(JSON.stringify(j.inputs)).toContain(`'username' = '${DWS_WRITER_USER}'`);
      expect(j.inputs.secrets["starrocks.password"]).toBe(writerPassword);
      expect(j.inputs.secrets["starrocks.password"]).not.toBe(run.credentials.starrocks!.rootPassword);
    }
  });

  it("Grafana reads StarRocks as the reader; the bootstrap task gets both passwords as secrets", () => {
    const ds = run.registered.flatMap((r) => strings(r.inputs)).find((s) => s.startsWith("apiVersion: 1\ndatasources:"))!;
    const starrocks = YAML.parse(ds).datasources.find((d: { uid: string }) => d.uid === "starrocks");
    expect(starrocks).toMatchObject({ user: DWS_READER_USER, jsonData: { database: "dws" } });
    expect(starrocks.secureJsonData.password).toBe(secretOf(run, "starrocks-dws-reader-password"));
    const secrets = ofType(run.registered, "kubernetes:core/v1:Secret").filter((s) => s.inputs.metadata.labels["app.kubernetes.io/name"] === "starrocks-bootstrap");
    const keys = secrets.flatMap((s) => Object.keys(s.inputs.stringData));
    expect(keys).toEqual(expect.arrayContaining(["env.DWS_WRITER_PASSWORD", "env.GRAFANA_READER_PASSWORD", "env.STARROCKS_ROOT_PASSWORD"]));
  });
});

/** The value the mocks gave a generated password resource. */
function secretOf(run: Run, name: string): string {
  const r = run.registered.find((x: Registered) => x.type === "random:index/randomPassword:RandomPassword" && x.name === name);
  if (!r) throw new Error(`no password resource ${name}`);
  return mockPassword(name);
}

function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === "object") return Object.values(v).flatMap(strings);
  return [];
}
