import * as fs from "fs";
import * as path from "path";
import * as tls from "tls";
import { BackupPolicy } from "../../components/config/backupPolicy";
import { archiveSettings, BACKUP_SECRET_ENV, pgBackRestConf, s3TlsHopConf, STANZA } from "../../components/services/pgbackrest";
import { SandboxSecrets } from "../credentials";
import { CONF, ensureDir, PortName, RUN } from "../paths";
import { chownR, run } from "../process";
import { BUCKETS, MINIO_ROOT_USER, SandboxService, ServiceContext } from "./types";

/** The sandbox's policy: the stacks' defaults, and WAL switched every 60 s at most. */
export const SANDBOX_BACKUP_POLICY: BackupPolicy = { retentionFull: 2, fullEveryDays: 7, diffEveryHours: 24, archiveTimeoutSeconds: 60 };

export const PGBACKREST_CONF = path.join(CONF, "pgbackrest", "pgbackrest.conf");
const WORK = path.join(RUN, "pgbackrest");
const TLS_DIR = path.join(CONF, "s3tls");

/** The environment pgBackRest reads its secrets from (MinIO's root in the sandbox; the stacks use a backup-only identity). */
export function pgBackRestEnv(s: SandboxSecrets): Record<string, string> {
  return { [BACKUP_SECRET_ENV.accessKey]: MINIO_ROOT_USER, [BACKUP_SECRET_ENV.secretKey]: s.minioRoot, [BACKUP_SECRET_ENV.cipherPass]: s.pgbackrestCipher };
}

/** Writes pgbackrest.conf for the sandbox's PostgreSQL (no secrets in it) and pgBackRest's folders. */
export function writePgBackRestConf(p: Record<PortName, number>, pgData: string): void {
  ensureDir(path.dirname(PGBACKREST_CONF));
  for (const d of ["log", "lock", "spool"]) ensureDir(path.join(WORK, d));
  chownR(WORK, "postgres");
  fs.writeFileSync(
    PGBACKREST_CONF,
    pgBackRestConf(
      { host: "127.0.0.1", port: p.s3Tls, bucket: BUCKETS.backups, region: "us-east-1", uriStyle: "path", verifyTls: false },
      SANDBOX_BACKUP_POLICY,
      { pgPath: pgData, pgPort: p.postgres, socketPath: path.join(RUN, "postgres"), pgUser: "rtdw_admin", workPath: WORK },
    ),
    { mode: 0o644 },
  );
}

export const sandboxArchiveSettings = () => archiveSettings(PGBACKREST_CONF, SANDBOX_BACKUP_POLICY);

/** Runs a pgBackRest command as the postgres user against the sandbox's stanza; returns its output. */
export function pgbackrest(s: SandboxSecrets, args: readonly string[]): string {
  return run("pgbackrest", [`--config=${PGBACKREST_CONF}`, `--stanza=${STANZA}`, ...args], { user: "postgres", env: pgBackRestEnv(s) });
}

/** stunnel: the TLS hop pgBackRest needs in front of the sandbox's plain-HTTP MinIO (components/services/pgbackrest.ts). */
export function s3TlsService({ p }: ServiceContext): SandboxService {
  const conf = path.join(TLS_DIR, "stunnel.conf");
  return {
    name: "s3tls",
    port: "s3Tls",
    after: ["minio"],
    startupSeconds: 20,
    prepare() {
      ensureDir(TLS_DIR, 0o700);
      const key = path.join(TLS_DIR, "hop.key");
      const crt = path.join(TLS_DIR, "hop.crt");
      if (!fs.existsSync(crt)) {
        run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", crt]);
      }
      fs.writeFileSync(conf, s3TlsHopConf({ acceptPort: p.s3Tls, connectHost: "127.0.0.1", connectPort: p.minio, certFile: crt, keyFile: key }));
    },
    process: () => ({ name: "s3tls", command: "stunnel", args: [conf] }),
    async healthy() {
      return await new Promise<boolean>((resolve) => {
        const sock = tls.connect({ host: "127.0.0.1", port: p.s3Tls, rejectUnauthorized: false }, () => {
          sock.end();
          resolve(true);
        });
        sock.setTimeout(2000, () => {
          sock.destroy();
          resolve(false);
        });
        sock.on("error", () => resolve(false));
      });
    },
  };
}
