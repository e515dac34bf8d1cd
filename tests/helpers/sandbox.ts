import { describe as describeSandbox, sandboxKafka } from "../../sandbox";

/** The running sandbox's endpoints and credentials, in the stack's output shape. */
export function sandbox() {
  return describeSandbox();
}

export function kafkaClient() {
  return sandboxKafka("rtdw-tests");
}

/**
 * Kafka connector options for a test's own Flink table: the operator (super user) on the internal
 * listener, as the tests create and feed topics of their own. With `placeholder`, the password is
 * left as ${secret:kafka.password} for the provider to substitute at submission.
 */
export function kafkaSqlOptions(o: { placeholder?: boolean } = {}): string {
  const { endpoints, credentials } = sandbox();
  const password = o.placeholder ? "${secret:kafka.password}" : credentials.kafka.adminPassword;
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="${endpoints.kafka.adminUser}" password="${password}";`;
  return [
    `'properties.bootstrap.servers' = '${endpoints.kafka.adminBootstrapServers}'`,
    `'properties.security.protocol' = 'SASL_PLAINTEXT'`,
    `'properties.sasl.mechanism' = 'PLAIN'`,
    `'properties.sasl.jaas.config' = '${jaas.replace(/'/g, "''")}'`,
  ].join(",\n  ");
}

/** CREATE CATALOG for Paimon: JDBC catalog in PostgreSQL, warehouse on MinIO. */
export function paimonCatalogSql(name: string, catalogKey: string, warehousePath: string, jdbcUrl?: string): string {
  const { endpoints, credentials } = sandbox();
  const pg = { ...endpoints.postgres.databases.paimon, ...(jdbcUrl ? { jdbcUrl } : {}) };
  const os = endpoints.objectStore;
  return `CREATE CATALOG ${name} WITH (
  'type' = 'paimon',
  'metastore' = 'jdbc',
  'uri' = '${pg.jdbcUrl}',
  'jdbc.user' = '${pg.user}',
  'jdbc.password' = '${credentials.postgres.paimon.password}',
  'catalog-key' = '${catalogKey}',
  'lock.enabled' = 'true',
  'lock-acquire-timeout' = '1 min',
  'warehouse' = 's3://${os.buckets.warehouse}/${warehousePath}',
  's3.endpoint' = '${os.endpoint}',
  's3.access-key' = '${credentials.objectStore.accessKey}',
  's3.secret-key' = '${credentials.objectStore.secretKey}',
  's3.path.style.access' = '${os.pathStyle}'
)`;
}

/** A MinIO client of the sandbox's object store (its root key), and an s3:// URI split into bucket and key. */
export function sandboxObjects() {
  const { endpoints, credentials } = sandbox();
  const Minio = require("minio") as typeof import("minio");
  const u = new URL(endpoints.objectStore.endpoint);
  const client = new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey: credentials.objectStore.accessKey, secretKey: credentials.objectStore.secretKey, region: endpoints.objectStore.region });
  const split = (uri: string) => {
    const m = /^s3a?:\/\/([^/]+)\/(.*?)\/?$/.exec(uri);
    if (!m) throw new Error(`not an s3:// URI: ${uri}`);
    return { bucket: m[1], key: m[2] };
  };
  const list = (bucket: string, prefix: string) =>
    new Promise<string[]>((resolve, reject) => {
      const names: string[] = [];
      client.listObjectsV2(bucket, prefix, true).on("data", (o) => o.name && names.push(o.name)).on("error", reject).on("end", () => resolve(names));
    });
  return { client, split, list };
}
