/**
 * PostgreSQL point-in-time recovery with pgBackRest (Debian's 2.45 in the image and the sandbox):
 * every WAL segment is archived to object storage as PostgreSQL closes it, base backups run on a
 * schedule beside the server, and pgBackRest itself expires what falls out of retention.
 *
 * pgBackRest before 2.58 speaks S3 over HTTPS only. AWS S3 is reached directly; an in-cluster MinIO
 * (plain HTTP, like every other client of it) is reached through a TLS hop on the pod's loopback
 * (stunnel, `S3_TLS_PORT`), so the traffic that leaves the pod is the same as any other MinIO client's.
 *
 * Nothing secret is in these files: the repository's keys and the encryption passphrase reach
 * pgBackRest as PGBACKREST_* environment variables (`BACKUP_SECRET_ENV`).
 */

import { BackupPolicy } from "../config/backupPolicy";

/** The stanza: pgBackRest's name for the one PostgreSQL cluster it backs up. */
export const STANZA = "rtdw";
/** Where the repository lives inside its bucket. */
export const REPO_PATH = "/postgres";
/** The loopback port the TLS hop to MinIO listens on. */
export const S3_TLS_PORT = 9443;

/** The environment variables pgBackRest reads its secrets from, by what they hold. */
export const BACKUP_SECRET_ENV = {
  accessKey: "PGBACKREST_REPO1_S3_KEY",
  secretKey: "PGBACKREST_REPO1_S3_KEY_SECRET",
  cipherPass: "PGBACKREST_REPO1_CIPHER_PASS",
} as const;

/** Where the repository is: an S3 endpoint as pgBackRest addresses it. */
export interface BackupRepository {
  /** Host name only (no scheme, no port). */
  readonly host: string;
  readonly port: number;
  readonly bucket: string;
  readonly region: string;
  /** MinIO: path; AWS: host. */
  readonly uriStyle: "path" | "host";
  /**
   * False only for the loopback TLS hop, whose certificate is made when the pod starts; what it
   * forwards to is the plain-HTTP MinIO, so verifying the hop would prove nothing.
   */
  readonly verifyTls: boolean;
}

/** Where the PostgreSQL it backs up keeps its files, and where pgBackRest keeps its own. */
export interface BackupHost {
  readonly pgPath: string;
  readonly pgPort: number;
  readonly socketPath: string;
  /** The superuser pgBackRest connects as over the socket (backup start/stop, WAL switch). */
  readonly pgUser: string;
  /** pgBackRest's log, lock and spool folders (writable by the postgres user). */
  readonly workPath: string;
}

/** pgbackrest.conf: the repository, retention and the stanza. No key, secret or passphrase. */
export function pgBackRestConf(repo: BackupRepository, policy: BackupPolicy, host: BackupHost): string {
  return [
    "[global]",
    "repo1-type=s3",
    `repo1-s3-endpoint=${repo.host}`,
    `repo1-storage-port=${repo.port}`,
    `repo1-s3-bucket=${repo.bucket}`,
    `repo1-s3-region=${repo.region}`,
    `repo1-s3-uri-style=${repo.uriStyle}`,
    `repo1-storage-verify-tls=${repo.verifyTls ? "y" : "n"}`,
    `repo1-path=${REPO_PATH}`,
    // Encrypted before it leaves the pod; the passphrase is a stack secret.
    "repo1-cipher-type=aes-256-cbc",
    `repo1-retention-full=${policy.retentionFull}`,
    "repo1-retention-full-type=count",
    "compress-type=zst",
    "start-fast=y",
    "process-max=1",
    `log-path=${host.workPath}/log`,
    `lock-path=${host.workPath}/lock`,
    `spool-path=${host.workPath}/spool`,
    "log-level-console=info",
    "log-level-file=info",
    "",
    `[${STANZA}]`,
    `pg1-path=${host.pgPath}`,
    `pg1-port=${host.pgPort}`,
    `pg1-socket-path=${host.socketPath}`,
    `pg1-user=${host.pgUser}`,
    "",
  ].join("\n");
}

/** PostgreSQL settings that archive every WAL segment through pgBackRest. */
export function archiveSettings(configFile: string, policy: BackupPolicy): string[] {
  return [
    "wal_level=replica",
    "archive_mode=on",
    `archive_command=pgbackrest --config=${configFile} --stanza=${STANZA} archive-push %p`,
    `archive_timeout=${policy.archiveTimeoutSeconds}`,
  ].flatMap((s) => ["-c", s]);
}

/**
 * The scheduler beside PostgreSQL: creates the stanza (idempotent), then takes a full backup every
 * FULL_EVERY_DAYS and a differential every DIFF_EVERY_HOURS. pgBackRest makes a full backup of a
 * requested differential when the repository has none, and expires by retention after each backup.
 * A failed run is logged and retried at the next tick; the age of the newest backup is alerted on.
 */
export const BACKUP_SCHEDULER_SH = `#!/bin/sh
set -u
pb() { pgbackrest --config="$PGBACKREST_CONFIG" --stanza=${STANZA} "$@"; }
until pg_isready -q -h "$PGHOST" -p "$PGPORT"; do sleep 5; done
until pb stanza-create; do echo "stanza-create failed; retrying in 60 s" >&2; sleep 60; done
diffs_per_full=$(( FULL_EVERY_DAYS * 24 / DIFF_EVERY_HOURS ))
[ "$diffs_per_full" -ge 1 ] || diffs_per_full=1
# Whatever the pod's history, the first backup after a start is a full one when none is recent enough:
# pgBackRest's own bookkeeping decides (a diff with no full becomes full).
n=0
while :; do
  if [ $(( n % diffs_per_full )) -eq 0 ] && [ "$n" -gt 0 ]; then type=full; else type=diff; fi
  if pb backup --type="$type"; then
    date +%s > "$BACKUP_WORK/last-success"
  else
    echo "backup (--type=$type) failed; next attempt in $DIFF_EVERY_HOURS h" >&2
  fi
  n=$(( n + 1 ))
  sleep $(( DIFF_EVERY_HOURS * 3600 ))
done
`;

/** stunnel: TLS on the pod's loopback, plain TCP to MinIO (see the file comment). */
export function s3TlsHopConf(o: { acceptPort: number; connectHost: string; connectPort: number; certFile: string; keyFile: string; pidFile?: string }): string {
  return [
    "foreground = yes",
    o.pidFile ? `pid = ${o.pidFile}` : "pid =",
    "debug = warning",
    "[s3]",
    `accept = 127.0.0.1:${o.acceptPort}`,
    `connect = ${o.connectHost}:${o.connectPort}`,
    `cert = ${o.certFile}`,
    `key = ${o.keyFile}`,
    "",
  ].join("\n");
}

/** Makes the hop's throwaway certificate, then runs stunnel with the rendered config. */
export const S3_TLS_HOP_SH = `#!/bin/sh
set -eu
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1 \\
  -keyout "$TLS_DIR/hop.key" -out "$TLS_DIR/hop.crt" 2>/dev/null
exec stunnel "$STUNNEL_CONF"
`;
