import * as fs from "fs";
import * as path from "path";
import { BOOTSTRAP_SQL } from "../../components/services/postgres";
import { writePrivate } from "../credentials";
import { CONF, ensureDir, RUN } from "../paths";
import { chownR, run } from "../process";
import { SandboxService, ServiceContext } from "./types";

/** The newest PostgreSQL server binary Debian installed. */
export const pgBin = (tool: string) => {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql");
  return path.join(root, versions[0], "bin", tool);
};

/** PostgreSQL: the Paimon catalog, the quality tables, StreamPark's and Grafana's databases, one user each (the stacks' bootstrap SQL). */
export function postgresService({ p, s, dir }: ServiceContext): SandboxService {
  return {
    name: "postgres",
    port: "postgres",
    after: [],
    startupSeconds: 60,
    prepare() {
      const data = dir("postgres");
      const sock = ensureDir(path.join(RUN, "postgres"));
      chownR(sock, "postgres");
      if (fs.existsSync(path.join(data, "PG_VERSION"))) return;
      ensureDir(data, 0o700);
      chownR(data, "postgres");
      const pw = path.join(RUN, "postgres", "initdb.pw");
      writePrivate(pw, s.postgresAdmin);
      chownR(pw, "postgres");
      try {
        run(pgBin("initdb"), ["-D", data, "-U", "rtdw_admin", `--pwfile=${pw}`, "--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--locale=C.UTF-8"], { user: "postgres" });
      } finally {
        fs.rmSync(pw, { force: true });
      }
    },
    process: () => ({
      name: "postgres",
      command: pgBin("postgres"),
      args: ["-D", dir("postgres"), "-c", `port=${p.postgres}`, "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${path.join(RUN, "postgres")}`, "-c", "shared_buffers=128MB", "-c", "password_encryption=scram-sha-256",
        // Every Flink job and SQL Gateway session opens its own Paimon JDBC catalog pool, and a job
        // restarted many times (the engine lifecycle suite) leaves its pool behind until the JVM's GC
        // closes it: room for those, beyond PostgreSQL's default 100.
        "-c", "max_connections=400"],
      user: "postgres",
    }),
    async healthy() {
      const { Client } = await import("pg");
      const c = new Client({ host: "127.0.0.1", port: p.postgres, user: "rtdw_admin", password: s.postgresAdmin, database: "postgres", connectionTimeoutMillis: 2000 });
      await c.connect();
      try {
        await c.query("select 1");
        return true;
      } finally {
        await c.end();
      }
    },
    async bootstrap() {
      const sqlFile = path.join(CONF, "postgres-bootstrap.sql");
      fs.writeFileSync(sqlFile, BOOTSTRAP_SQL);
      run("psql", ["-v", "ON_ERROR_STOP=1", "-q", "-f", sqlFile], {
        env: {
          PGHOST: "127.0.0.1", PGPORT: String(p.postgres), PGUSER: "rtdw_admin", PGDATABASE: "postgres", PGPASSWORD: s.postgresAdmin,
          ...Object.fromEntries(Object.entries(s.postgres).map(([k, v]) => [`${k.toUpperCase()}_PASSWORD`, v])),
          MONITOR_PASSWORD: s.postgresMonitor,
        },
      });
    },
  };
}
