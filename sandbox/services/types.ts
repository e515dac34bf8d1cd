import * as path from "path";
import { loadOrCreateSecrets, SandboxSecrets } from "../credentials";
import { CONF, DATA, ensureDir, PortName, ports } from "../paths";
import { ProcessSpec } from "../process";

/** One local service: how to prepare it, start it and tell that it is healthy. */
export interface SandboxService {
  readonly name: string;
  /** The port `status` shows and the collision check guards. */
  readonly port: PortName;
  /** Services that must be healthy first. */
  readonly after: readonly string[];
  /** Seconds `up` waits for health. */
  readonly startupSeconds: number;
  /** Idempotent: writes config, initialises data folders. */
  prepare(): void;
  process(): ProcessSpec;
  healthy(): Promise<boolean>;
  /** Idempotent work after the first healthy check (users, buckets, databases). */
  bootstrap?(): Promise<void>;
  /** How `down` stops it, where SIGTERM then SIGKILL to its process group is wrong (see StopSignals). */
  readonly stop?: StopSignals;
}

/** The signal that asks a service to stop, how long to wait, and the one sent if it has not. */
export interface StopSignals {
  readonly signal: NodeJS.Signals;
  readonly graceMs: number;
  readonly last: NodeJS.Signals;
}

/** What every service file is given: the ports, the generated secrets and its folders. */
export interface ServiceContext {
  readonly p: Record<PortName, number>;
  readonly s: SandboxSecrets;
  /** The service's data folder (not created). */
  dir(name: string): string;
  /** The service's config folder, created; traversable by the service users, files with secrets are 0600. */
  conf(name: string): string;
}

export function serviceContext(): ServiceContext {
  return {
    p: ports(),
    s: loadOrCreateSecrets(),
    dir: (name) => path.join(DATA, name),
    conf: (name) => ensureDir(path.join(CONF, name)),
  };
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export const BUCKETS = { warehouse: "rtdw-sandbox-warehouse", checkpoints: "rtdw-sandbox-checkpoints", starrocks: "rtdw-sandbox-starrocks", backups: "rtdw-sandbox-backups", archive: "rtdw-sandbox-archive" };
/** The local stack's Pulumi state (a DIY backend, versioned like the stacks' state buckets). */
export const STATE_BUCKET = "rtdw-sandbox-pulumi-state";
/** MinIO's root user; its password is generated (secrets.json). */
export const MINIO_ROOT_USER = "rtdw-root";
export const MARIADB_DATABASE = "shop";
/** Stands in for StarRocks' dws database (StarRocks speaks the MySQL protocol). */
export const MARIADB_DWS_DATABASE = "dws";
