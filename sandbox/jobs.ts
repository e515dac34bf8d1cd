import { JobEnvironment, SecretName } from "../components/jobs/render";
import { standInSinks } from "../components/jobs/sinks";
import { describe } from "./index";

/**
 * The job environment of the local sandbox: the stacks' SQL runs unchanged against the sandbox's
 * services. Only the sinks differ: StarRocks cannot run here, so the DWS tables are MariaDB tables
 * with StarRocks' columns and keys (the JDBC connector upserts them as the StarRocks connector would).
 */
export function sandboxJobEnvironment(timeZone = "Asia/Shanghai"): JobEnvironment {
  const { endpoints: e } = describe();
  return {
    paimon: { jdbcUrl: e.postgres.databases.paimon.jdbcUrl, user: e.postgres.databases.paimon.user, warehouse: `s3://${e.objectStore.buckets.warehouse}/paimon` },
    s3: { endpoint: e.objectStore.endpoint, accessKey: "rtdw-root", pathStyle: e.objectStore.pathStyle },
    kafka: { bootstrap: e.kafka.bootstrapServers, user: e.kafka.username },
    mysql: { hostname: e.mysql.host, port: e.mysql.port, database: e.mysql.database, user: e.mysql.cdcUser },
    timeZone,
    sinks: standInSinks(
      { jdbcUrl: `jdbc:mysql://${e.mysql.host}:${e.mysql.port}/${e.mysql.dwsDatabase}`, user: e.mysql.user },
      { jdbcUrl: e.postgres.databases.quality.jdbcUrl, user: e.postgres.databases.quality.user },
    ),
  };
}

export function sandboxJobSecrets(): Record<SecretName, string> {
  const { credentials: c } = describe();
  return {
    "paimon.password": c.postgres.paimon.password,
    "s3.secretKey": c.objectStore.secretKey,
    "kafka.password": c.kafka.password,
    "mysql.password": c.mysql.cdcPassword,
    "starrocks.password": c.mysql.password,
    "quality.password": c.postgres.quality.password,
  };
}
