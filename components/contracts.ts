/**
 * The shape in which the platform hands out its endpoints and credentials. The Pulumi stack exports
 * it (endpoints in the clear, credentials as secrets) and the local sandbox writes the same shape,
 * so job and alert providers can be pointed at either unchanged.
 */
import { DatabaseName } from "./services/postgres";

export interface PlatformEndpoints {
  readonly objectStore: {
    readonly kind: "minio" | "s3";
    readonly endpoint: string;
    readonly region: string;
    readonly pathStyle: boolean;
    readonly buckets: { readonly warehouse: string; readonly checkpoints: string; readonly starrocks: string };
  };
  readonly postgres: {
    readonly host: string;
    readonly port: number;
    readonly databases: Readonly<Record<DatabaseName, { readonly database: string; readonly user: string; readonly jdbcUrl: string }>>;
  };
  readonly redis: { readonly host: string; readonly port: number };
  /** Clients log in with SCRAM, each as its own user (components/pipelines/kafkaAccess.ts). */
  readonly kafka: { readonly bootstrapServers: string; readonly securityProtocol: "SASL_PLAINTEXT" | "SASL_SSL"; readonly saslMechanism: "SCRAM-SHA-512"; readonly users: readonly string[]; readonly replicationFactor: number };
  readonly flink: {
    /** The shared session cluster's REST API; with a cluster per job there is none (see `clusters`). */
    readonly restUrl?: string;
    /** Each job's own session cluster's REST API, by job name (a cluster per job). */
    readonly clusters?: Readonly<Record<string, string>>;
    readonly sqlGatewayUrl: string;
    readonly image: string;
    readonly slots: number;
  };
  readonly streampark: { readonly url: string };
  readonly starrocks: { readonly jdbcUrl: string; readonly loadUrl: string; readonly user: string };
  readonly collector: { readonly url: string };
  readonly observability?: { readonly prometheusUrl: string; readonly alertmanagerUrl: string; readonly grafanaUrl: string };
}

export interface PlatformCredentials {
  readonly objectStore: { readonly accessKey: string; readonly secretKey: string };
  readonly postgres: Readonly<Record<DatabaseName, { readonly password: string }>>;
  readonly redis: { readonly password: string };
  /** Each Kafka client's SCRAM password, by user. */
  readonly kafka: { readonly users: Readonly<Record<string, string>> };
  readonly streampark: { readonly adminPassword: string };
  readonly starrocks: { readonly rootPassword: string };
  /** Prometheus/Alertmanager (user "rtdw") and Grafana ("admin"). */
  readonly observability?: { readonly prometheusPassword: string; readonly grafanaAdminPassword: string };
}
