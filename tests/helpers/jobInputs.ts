import type { JobEndpoints } from "../../components/jobs/environment";
import type { FlinkSqlJobInputs } from "../../components/jobs/provider";

/** A stack's job endpoints as the cluster would name them, for rendering tests. */
export const EXAMPLE_ENDPOINTS: JobEndpoints = {
  paimon: { jdbcUrl: "jdbc:postgresql://pg:5432/paimon", user: "paimon" },
  objectStore: { endpoint: "http://minio:9000", accessKey: "ak", pathStyle: true, warehouseBucket: "wh" },
  kafka: { bootstrap: "kafka:9092", securityProtocol: "SASL_PLAINTEXT" },
  source: { host: "mysql", port: 3306, database: "shop", user: "cdc" },
  timeZone: "Asia/Shanghai",
  dws: { kind: "jdbc", jdbcUrl: "jdbc:mysql://db:3306/dws", user: "app" },
  quality: { jdbcUrl: "jdbc:postgresql://pg:5432/q", user: "q" },
};

/** A FlinkSqlJob's inputs for tests of the provider's decisions (no backend is reached unless a test gives one). */
export function jobInputs(over: Partial<FlinkSqlJobInputs> = {}): FlinkSqlJobInputs {
  return {
    name: "rt-trk-dws",
    script: { job: "rt-trk-dws", config: { "parallelism.default": "1" }, statements: ["INSERT INTO a SELECT 1"] },
    upgradeMode: "savepoint",
    restartNonce: 0,
    backend: { kind: "sql-gateway", sqlGatewayUrl: "http://127.0.0.1:1", jobManagerUrl: "http://127.0.0.1:2" },
    savepointDir: "s3://b/savepoints/rt-trk-dws",
    savepointsToKeep: 3,
    objectStore: { endpoint: "http://127.0.0.1:3", region: "us-east-1", accessKey: "k" },
    readyTimeoutSeconds: 1,
    startTimeoutSeconds: 1,
    secrets: { "kafka.password": "p" },
    ...over,
  };
}
