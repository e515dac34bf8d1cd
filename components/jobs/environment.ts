import { JobEnvironment, SecretName } from "./render";
import { standInSinks, stackSinks } from "./sinks";

/**
 * What the jobs connect to, as the cluster reaches it: one typed record that every platform (the
 * provisioned stacks and an existing one such as the sandbox) fills in, turned into the environment
 * the SQL is rendered with. Passwords travel separately (JobCredentials), as secrets.
 */
export interface JobEndpoints {
  readonly paimon: { readonly jdbcUrl: string; readonly user: string };
  readonly objectStore: { readonly endpoint: string; readonly accessKey: string; readonly pathStyle: boolean; readonly warehouseBucket: string };
  readonly kafka: { readonly bootstrap: string; readonly user: string };
  readonly source: { readonly host: string; readonly port: number; readonly database: string; readonly user: string };
  readonly timeZone: string;
  /** StarRocks, or a MySQL-protocol stand-in with StarRocks' tables (where StarRocks cannot run). */
  readonly dws:
    | { readonly kind: "starrocks"; readonly jdbcUrl: string; readonly loadUrl: string; readonly user: string; readonly database: string }
    | { readonly kind: "jdbc"; readonly jdbcUrl: string; readonly user: string };
  readonly quality: { readonly jdbcUrl: string; readonly user: string };
}

/** The credentials the SQL references (${secret:...}), by name. */
export type JobCredentials = Readonly<Record<SecretName, string>>;

export function jobEnvironment(e: JobEndpoints): JobEnvironment {
  return {
    paimon: { jdbcUrl: e.paimon.jdbcUrl, user: e.paimon.user, warehouse: `s3://${e.objectStore.warehouseBucket}/paimon` },
    s3: { endpoint: e.objectStore.endpoint, accessKey: e.objectStore.accessKey, pathStyle: e.objectStore.pathStyle },
    kafka: { bootstrap: e.kafka.bootstrap, user: e.kafka.user },
    mysql: { hostname: e.source.host, port: e.source.port, database: e.source.database, user: e.source.user },
    timeZone: e.timeZone,
    sinks:
      e.dws.kind === "starrocks"
        ? stackSinks({ jdbcUrl: e.dws.jdbcUrl, loadUrl: e.dws.loadUrl, user: e.dws.user, database: e.dws.database }, e.quality)
        : standInSinks({ jdbcUrl: e.dws.jdbcUrl, user: e.dws.user }, e.quality),
  };
}
