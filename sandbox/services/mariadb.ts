import * as fs from "fs";
import * as path from "path";
import { starrocksDwsAsMysql, starrocksDwsTables } from "../../components/jobs/sinks";
import { SQL_DIR } from "../../components/config/jobTable";
import { CONF, ensureDir, RUN } from "../paths";
import { chownR, run } from "../process";
import { MARIADB_DATABASE, MARIADB_DWS_DATABASE, SandboxService, ServiceContext } from "./types";

/** MariaDB: the business MySQL the CDC job reads, and the stand-in for StarRocks' dws tables. */
export function mariadbService({ p, s, dir, conf }: ServiceContext): SandboxService {
  const mariadbSock = path.join(RUN, "mariadb", "mariadb.sock");
  return {
    name: "mariadb",
    port: "mariadb",
    after: [],
    startupSeconds: 60,
    prepare() {
      const data = dir("mariadb");
      ensureDir(path.join(RUN, "mariadb"));
      chownR(path.join(RUN, "mariadb"), "mysql");
      fs.writeFileSync(
        path.join(conf("mariadb"), "my.cnf"),
        `[mysqld]
  datadir=${data}
  socket=${mariadbSock}
  pid-file=${path.join(RUN, "mariadb", "mariadbd.pid")}
  port=${p.mariadb}
  bind-address=127.0.0.1
  skip-name-resolve
  # The CDC source: Flink CDC requires row-based binlog with full row images.
  server-id=1
  log-bin=mysql-bin
  binlog_format=ROW
  binlog_row_image=FULL
  expire_logs_days=2
  innodb_buffer_pool_size=128M
  character-set-server=utf8mb4
  collation-server=utf8mb4_general_ci
  `,
      );
      fs.chmodSync(path.join(CONF, "mariadb"), 0o755);
      if (fs.existsSync(path.join(data, "mysql"))) return;
      ensureDir(data);
      chownR(data, "mysql");
      run("mariadb-install-db", [`--defaults-file=${path.join(CONF, "mariadb", "my.cnf")}`, "--user=mysql", "--auth-root-authentication-method=socket", "--skip-test-db"]);
    },
    process: () => ({ name: "mariadb", command: "mariadbd", args: [`--defaults-file=${path.join(CONF, "mariadb", "my.cnf")}`], user: "mysql" }),
    async healthy() {
      run("mariadb-admin", [`--socket=${mariadbSock}`, "-uroot", "ping"]);
      return true;
    },
    async bootstrap() {
      // Root stays socket-only; the pipeline gets two password users with the least they need.
      run("mariadb", [`--socket=${mariadbSock}`, "-uroot"], {
        input: `CREATE DATABASE IF NOT EXISTS ${MARIADB_DATABASE} CHARACTER SET utf8mb4;
  CREATE USER IF NOT EXISTS 'rtdw_app'@'127.0.0.1' IDENTIFIED BY '${s.mariadbApp}';
  ALTER USER 'rtdw_app'@'127.0.0.1' IDENTIFIED BY '${s.mariadbApp}';
  GRANT ALL PRIVILEGES ON ${MARIADB_DATABASE}.* TO 'rtdw_app'@'127.0.0.1';
  CREATE USER IF NOT EXISTS 'rtdw_cdc'@'127.0.0.1' IDENTIFIED BY '${s.mariadbCdc}';
  ALTER USER 'rtdw_cdc'@'127.0.0.1' IDENTIFIED BY '${s.mariadbCdc}';
  GRANT SELECT, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT, RELOAD, LOCK TABLES ON *.* TO 'rtdw_cdc'@'127.0.0.1';
  CREATE DATABASE IF NOT EXISTS ${MARIADB_DWS_DATABASE} CHARACTER SET utf8mb4;
  GRANT ALL PRIVILEGES ON ${MARIADB_DWS_DATABASE}.* TO 'rtdw_app'@'127.0.0.1';
  CREATE USER IF NOT EXISTS 'rtdw_dws'@'127.0.0.1' IDENTIFIED BY '${s.mariadbDws}';
  ALTER USER 'rtdw_dws'@'127.0.0.1' IDENTIFIED BY '${s.mariadbDws}';
  USE ${MARIADB_DATABASE};
  ${fs.readFileSync(path.join(SQL_DIR, "source", "shop.sql"), "utf8")}
  -- StarRocks cannot run here: its DWS tables, same columns and keys, receive the DWS jobs' rows.
  USE ${MARIADB_DWS_DATABASE};
  ${starrocksDwsAsMysql().map((t) => `${t};`).join("\n")}
  -- The DWS jobs write as their own user, to exactly these tables (as the StarRocks writer does).
  ${starrocksDwsTables().map((t) => `GRANT SELECT, INSERT, UPDATE, DELETE ON ${MARIADB_DWS_DATABASE}.${t} TO 'rtdw_dws'@'127.0.0.1';`).join("\n")}
  FLUSH PRIVILEGES;
  `,
      });
    },
  };
}
