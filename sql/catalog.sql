-- The Paimon catalog every job works in: metadata in PostgreSQL (JDBC catalog, with its lock so
-- concurrent commits on S3 are safe), data on the object store. Values are injected at registration;
-- Credentials are secret placeholders, substituted only at submission and never stored in Pulumi state.
CREATE CATALOG rtdw WITH (
  'type' = 'paimon',
  'metastore' = 'jdbc',
  'uri' = '${paimon.jdbcUrl}',
  'jdbc.user' = '${paimon.user}',
  'jdbc.password' = '${secret:paimon.password}',
  'catalog-key' = 'rtdw',
  'lock.enabled' = 'true',
  -- A commit holds the lock for well under a second. A writer killed while holding it (a crashed
  -- TaskManager, a disaster rebuild) leaves its row behind, which expires after this timeout; with
  -- Paimon's default (8 min) every committer after the crash waits, and Flink kills a TaskManager
  -- whose cancelled task stays stuck for 180 s. One minute bounds the wait below that.
  'lock-acquire-timeout' = '1 min',
  'warehouse' = '${paimon.warehouse}',
  's3.endpoint' = '${s3.endpoint}',
  's3.access-key' = '${s3.accessKey}',
  's3.secret-key' = '${secret:s3.secretKey}',
  's3.path.style.access' = '${s3.pathStyle}',
  -- Streaming readers register as consumers (their consumer-id hint), so a snapshot a stopped job
  -- still needs is not expired under it; a consumer no job has advanced for a week stops counting.
  -- Paimon refuses a consumer-id on a table without this option: tables created before it was set
  -- need ALTER TABLE <table> SET ('consumer.expiration-time' = '7 d').
  'table-default.consumer.expiration-time' = '7 d'
);

USE CATALOG rtdw;
