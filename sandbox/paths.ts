import * as fs from "fs";
import * as path from "path";

/** The one folder everything of the sandbox lives in (ignored by git): cache/, data/, logs/, run/, conf/. */
export const HOME = path.resolve(process.env.RTDW_SANDBOX_HOME ?? path.join(__dirname, "..", ".sandbox"));
export const CACHE = path.join(HOME, "cache");
export const DATA = path.join(HOME, "data");
export const LOGS = path.join(HOME, "logs");
export const RUN = path.join(HOME, "run");
export const CONF = path.join(HOME, "conf");

/** mkdir -p; `mode` applies to the leaf only, so service users can still traverse the parents. */
export function ensureDir(dir: string, mode?: number): string {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.mkdirSync(dir, { recursive: true });
  if (mode !== undefined) fs.chmodSync(dir, mode);
  return dir;
}

/** Default ports, each overridable with RTDW_SANDBOX_PORT_<NAME> (e.g. RTDW_SANDBOX_PORT_KAFKA=29092). */
const DEFAULT_PORTS = {
  postgres: 25432,
  mariadb: 23306,
  redis: 26379,
  minio: 29000,
  minioConsole: 29001,
  /** The TLS hop pgBackRest reaches MinIO through (it speaks S3 over HTTPS only). */
  s3Tls: 29443,
  kafka: 29092,
  kafkaController: 29093,
  /** Brokers' and admin tools' listener (SASL/PLAIN as the super user); clients use `kafka` (SCRAM). */
  kafkaInternal: 29094,
  /** The client listener over TLS (SASL_SSL, SCRAM), as the test and prod stacks run it; `localhost` is in its certificate. */
  kafkaTls: 29095,
  flinkRest: 28081,
  flinkRpc: 26123,
  sqlGateway: 28083,
  nginx: 28080,
  collector: 28687,
  prometheus: 29090,
  alertmanager: 29193,
  nginxStatus: 28082,
  postgresExporter: 29187,
  redisExporter: 29121,
  nginxExporter: 29113,
  flinkJmMetrics: 29249,
  flinkTmMetrics: 29250,
  flinkJobExporter: 29252,
  /** The second session cluster (the tracking pipeline's jobs): its REST API, RPC, metrics and job exporter. */
  flinkTrkRest: 28091,
  flinkTrkRpc: 26124,
  flinkTrkJmMetrics: 29253,
  flinkTrkTmMetrics: 29254,
  flinkTrkJobExporter: 29256,
  /** Where the sandbox's Alertmanager sends each team's alerts (http://127.0.0.1:<port>/<team>); nothing listens unless a test does. */
  alertSink: 29195,
  /** The Kubernetes API server the Kubernetes checks create the test and prod stacks' objects in (and its etcd). */
  kubeApiServer: 26443,
  etcd: 22379,
  etcdPeer: 22380,
  /** The control plane's other members (their health endpoints) and kwok's kubelet server. */
  kubeScheduler: 26459,
  kubeControllerManager: 26457,
  kwok: 26450,
} as const;
export type PortName = keyof typeof DEFAULT_PORTS;

export function ports(): Record<PortName, number> {
  const out = {} as Record<PortName, number>;
  for (const [name, def] of Object.entries(DEFAULT_PORTS) as [PortName, number][]) {
    const env = process.env[`RTDW_SANDBOX_PORT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`];
    const p = env ? Number(env) : def;
    if (!Number.isInteger(p) || p < 1024 || p > 65535) throw new Error(`sandbox port ${name}: expected 1024-65535, got ${env}`);
    out[name] = p;
  }
  const seen = new Map<number, string>();
  for (const [name, p] of Object.entries(out)) {
    if (seen.has(p)) throw new Error(`sandbox ports collide: ${seen.get(p)} and ${name} both use ${p}`);
    seen.set(p, name);
  }
  return out;
}
