import type { FlinkSqlJobInputs } from "../../components/jobs/provider";

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
