import * as fs from "fs";
import * as path from "path";
import { BOOTSTRAP_SQL } from "../../components/services/postgres";
import { writePrivate } from "../credentials";
import { CONF, ensureDir, RUN } from "../paths";
import { chownR, run } from "../process";
import { pgbackrest, pgBackRestEnv, sandboxArchiveSettings, writePgBackRestConf } from "./pgbackrest";
import { SandboxService, ServiceContext } from "./types";

/** The newest PostgreSQL server binary Debian installed. */
export const pgBin = (tool: string) => {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql");
  return path.join(root, versions[0], "bin", tool);
};

/**
 * PostgreSQL: the Paimon catalog, the quality tables, StreamPark's and Grafana's databases, one user
 * each (the stacks' bootstrap SQL). Every WAL segment is archived with pgBackRest to MinIO, as on the stacks.
 */
export function postgresService({ p, s, dir }: ServiceContext): SandboxService {
  return {
    name: "postgres",
    port: "postgres",
    // The WAL archive goes to MinIO through the TLS hop from the first segment on.
    after: ["s3tls"],
    startupSeconds: 60,
    prepare() {
      const data = dir("postgres");
      writePgBackRestConf(p, data);
      const sock = ensureDir(path.join(RUN, "postgres"));
      chownR(sock, "postgres");
      if (fs.existsSync(path.join(data, "PG_VERSION"))) return writeAccessRules(data);
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
      writeAccessRules(data);
    },
    // Fast shutdown (SIGINT): clients are disconnected and the last WAL is archived while MinIO and the
    // TLS hop still run (they stop after). Never SIGKILL the postmaster: its children are group
    // leaders of their own, so a killed postmaster orphans them (an archiver kept retrying after
    // `down`, and the next `up` found its shared memory in use); SIGQUIT stops them all.
    stop: { signal: "SIGINT", graceMs: 60000, last: "SIGQUIT" },
    process: () => ({
      name: "postgres",
      command: pgBin("postgres"),
      args: ["-D", dir("postgres"), "-c", `port=${p.postgres}`, "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${path.join(RUN, "postgres")}`, "-c", "shared_buffers=128MB", "-c", "password_encryption=scram-sha-256",
        // Every Flink job and SQL Gateway session opens its own Paimon JDBC catalog pool, and a job
        // restarted many times (the engine lifecycle suite) leaves its pool behind until the JVM's GC
        // closes it: room for those, beyond PostgreSQL's default 100.
        "-c", "max_connections=400", ...sandboxArchiveSettings()],
      // archive_command runs as PostgreSQL's child: the repository's keys reach pgBackRest from here.
      env: pgBackRestEnv(s),
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
      // Idempotent; archiving has been retrying since the start and succeeds from here on.
      pgbackrest(s, ["stanza-create"]);
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

/**
 * Over TCP, a password (SCRAM) for everyone; over the socket only the postgres system user, as the
 * superuser: pgBackRest's backups and archive (it connects as rtdw_admin, see pgbackrest.ts).
 */
function writeAccessRules(data: string) {
  const write = (file: string, text: string) => {
    fs.writeFileSync(path.join(data, file), text, { mode: 0o600 });
    chownR(path.join(data, file), "postgres");
  };
  write("pg_ident.conf", "# map  system-user  database-user\nlocal  postgres  rtdw_admin\n");
  write("pg_hba.conf", "local all all peer map=local\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n");
}
