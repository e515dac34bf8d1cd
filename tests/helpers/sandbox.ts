import { describe as describeSandbox, sandboxKafka } from "../../sandbox";

/** The running sandbox's endpoints and credentials, in the stack's output shape. */
export function sandbox() {
  return describeSandbox();
}

export function kafkaClient() {
  return sandboxKafka("rtdw-tests");
}

/** Kafka connector options for Flink SQL, with the credentials injected at submission time. */
export function kafkaSqlOptions(): string {
  const { endpoints, credentials } = sandbox();
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="${endpoints.kafka.username}" password="${credentials.kafka.password}";`;
  return [
    `'properties.bootstrap.servers' = '${endpoints.kafka.bootstrapServers}'`,
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
