import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { STREAMPARK_ADMIN_SQL } from "../../components/streampark/streampark";
import { loadOrCreateSecrets } from "../../sandbox/credentials";
import { sandbox } from "../helpers/sandbox";

// StreamPark's seeded admin row and its documented hash (ShaHashUtilsTest in apache/incubator-streampark:
// encrypt("rh8b1ojwog777yrg0daesf04gk", "streampark") == this). The server itself cannot run here.
const SEED_SALT = "rh8b1ojwog777yrg0daesf04gk";
const SEED_HASH = "2513f3748847298ea324dffbf67fe68681dd92315bda830065facd8efe08f54f";

/** Shiro's SHA-256 with 1024 iterations, as StreamPark's ShaHashUtils computes it. */
const shiro = (password: string, salt: string) => {
  let h = createHash("sha256").update(salt + password, "utf8").digest();
  for (let i = 2; i <= 1024; i++) h = createHash("sha256").update(h).digest();
  return h.toString("hex");
};

/**
 * The StreamPark admin-password task (components/streampark/admin.sql) run by real psql against the
 * sandbox's PostgreSQL 15. StreamPark's own schema is not loaded (its files ship in its image only):
 * CONTRACT: the t_user columns the script touches and the seeded admin row, as StreamPark 2.1 ships them.
 */
describe("StreamPark admin password task on real PostgreSQL (t_user per StreamPark's contract)", () => {
  const { endpoints } = sandbox();
  const db = `sp_admin_test_${Date.now().toString(36)}`;
  const connect = async (database = db) => {
    const c = new Client({ host: "127.0.0.1", port: endpoints.postgres.port, user: "rtdw_admin", password: loadOrCreateSecrets().postgresAdmin, database });
    await c.connect();
    return c;
  };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-sp-")), "admin.sql");

  const runTask = (password: string) => {
    const r = spawnSync("psql", ["-X", "-v", "ON_ERROR_STOP=1", "-f", file], {
      env: { ...process.env, PGHOST: "127.0.0.1", PGPORT: String(endpoints.postgres.port), PGUSER: "rtdw_admin", PGPASSWORD: loadOrCreateSecrets().postgresAdmin, PGDATABASE: db, STREAMPARK_ADMIN_PASSWORD: password },
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`admin.sql failed: ${r.stderr}`);
    return r.stdout + r.stderr;
  };
  const adminRow = async () => {
    const c = await connect();
    try {
      return (await c.query("SELECT salt, password FROM t_user WHERE username = 'admin'")).rows[0] as { salt: string; password: string };
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    fs.writeFileSync(file, STREAMPARK_ADMIN_SQL);
    const a = await connect("postgres");
    await a.query(`CREATE DATABASE ${db}`);
    await a.end();
    const c = await connect();
    await c.query(`CREATE TABLE public.t_user (user_id bigint PRIMARY KEY, username varchar(64) NOT NULL, nick_name varchar(64), salt varchar(26), password varchar(64) NOT NULL)`);
    await c.query(`INSERT INTO t_user VALUES (100000, 'admin', '', $1, $2), (100001, 'test1', '', $1, $2)`, [SEED_SALT, SEED_HASH]);
    await c.end();
  });

  afterAll(async () => {
    const a = await connect("postgres");
    await a.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await a.end();
  });

  it("computes StreamPark's own hash of the default password (same algorithm as ShaHashUtils)", async () => {
    expect(shiro("streampark", SEED_SALT)).toBe(SEED_HASH);
    const fn = STREAMPARK_ADMIN_SQL.match(/CREATE OR REPLACE FUNCTION pg_temp\.shiro_sha256[\s\S]*?END \$\$;/)?.[0];
    expect(fn).toBeDefined();
    const c = await connect();
    try {
      await c.query(fn!);
      const r = await c.query("SELECT pg_temp.shiro_sha256('streampark', $1) AS h", [SEED_SALT]);
      expect(r.rows[0].h).toBe(SEED_HASH);
    } finally {
      await c.end();
    }
  });

  it("replaces the default admin password with the stack's secret, fresh salt, nothing printed", async () => {
    const chosen = "Gen3rated-Value-42";
    const out = runTask(chosen);
    expect(out).not.toContain(chosen);
    const row = await adminRow();
    expect(row.password).not.toBe(SEED_HASH);
    expect(row.salt).toMatch(/^[0-9a-f]{26}$/);
    expect(row.password).toBe(shiro(chosen, row.salt));
    // Only admin is touched.
    const c = await connect();
    expect((await c.query("SELECT password FROM t_user WHERE username = 'test1'")).rows[0].password).toBe(SEED_HASH);
    await c.end();
  });

  it("is idempotent: the same secret leaves the row alone, a rotated secret re-hashes it", async () => {
    const before = await adminRow();
    runTask("Gen3rated-Value-42");
    expect(await adminRow()).toEqual(before);
    runTask("Rotated-Value-43");
    const after = await adminRow();
    expect(after.salt).not.toBe(before.salt);
    expect(after.password).toBe(shiro("Rotated-Value-43", after.salt));
  });
});
