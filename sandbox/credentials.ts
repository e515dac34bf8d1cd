import { createHmac, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { DATABASES, DatabaseName } from "../components/services/postgres";
import { CONF, ensureDir } from "./paths";

/** Passwords of one sandbox, generated on its first `up` and kept (mode 0600) until `down --purge`. */
export interface SandboxSecrets {
  readonly postgresAdmin: string;
  readonly postgres: Readonly<Record<DatabaseName, string>>;
  readonly mariadbApp: string;
  readonly mariadbCdc: string;
  /** The DWS jobs' writer on the StarRocks stand-in: rights on the DWS tables only. */
  readonly mariadbDws: string;
  readonly redis: string;
  readonly minioRoot: string;
  readonly kafkaAdmin: string;
  /** Each Kafka client's SCRAM password is derived from this and the user's name (kafkaUserPassword). */
  readonly kafkaUsers: string;
  readonly prometheus: string;
  /** PostgreSQL's monitoring role (pg_monitor, read-only on the quality table), used by the exporter. */
  readonly postgresMonitor: string;
  /** What Prometheus presents to the exporters it scrapes. */
  readonly scrape: string;
  /** Encrypts PostgreSQL's backups and archived WAL (pgBackRest's repository cipher). */
  readonly pgbackrestCipher: string;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export function generatePassword(length = 32): string {
  const bytes = randomBytes(length * 2);
  let out = "";
  for (const b of bytes) {
    if (b < 248) out += ALPHABET[b % 62]; // 248 = 4*62: no modulo bias
    if (out.length === length) break;
  }
  return out;
}

/** A Kafka client's SCRAM password: stable for a sandbox, its own per user, alphanumeric. */
export function kafkaUserPassword(s: SandboxSecrets, user: string): string {
  const digest = createHmac("sha256", s.kafkaUsers).update(`kafka-user:${user}`).digest();
  let out = "";
  for (const b of digest) if (b < 248) out += ALPHABET[b % 62];
  return out.slice(0, 24).padEnd(24, "0");
}

export const SECRETS_FILE = path.join(CONF, "secrets.json");

export function loadOrCreateSecrets(): SandboxSecrets {
  const dbPasswords = (have: Partial<Record<DatabaseName, string>> = {}) =>
    Object.fromEntries((Object.keys(DATABASES) as DatabaseName[]).map((k) => [k, have[k] ?? generatePassword()])) as Record<DatabaseName, string>;
  const fresh = (): SandboxSecrets => ({
    postgresAdmin: generatePassword(),
    postgres: dbPasswords(),
    mariadbApp: generatePassword(),
    mariadbCdc: generatePassword(),
    mariadbDws: generatePassword(),
    redis: generatePassword(),
    minioRoot: generatePassword(),
    kafkaAdmin: generatePassword(),
    kafkaUsers: generatePassword(48),
    prometheus: generatePassword(),
    postgresMonitor: generatePassword(),
    scrape: generatePassword(),
    pgbackrestCipher: generatePassword(48),
  });
  if (fs.existsSync(SECRETS_FILE)) {
    const have = JSON.parse(fs.readFileSync(SECRETS_FILE, "utf8")) as SandboxSecrets;
    // A secret or database added since the file was written gets its password now; the rest are kept.
    const missing = Object.keys(fresh()).some((k) => !(k in have)) || Object.keys(DATABASES).some((k) => !(k in have.postgres));
    if (!missing) return have;
    const updated: SandboxSecrets = { ...fresh(), ...have, postgres: dbPasswords(have.postgres) };
    fs.writeFileSync(SECRETS_FILE, JSON.stringify(updated, null, 2), { mode: 0o600 });
    return updated;
  }
  const s = fresh();
  ensureDir(CONF);
  fs.writeFileSync(SECRETS_FILE, JSON.stringify(s, null, 2), { mode: 0o600 });
  return s;
}

/** Writes a file only its owner can read: every sandbox config file that holds a credential. */
export function writePrivate(file: string, content: string, mode = 0o600) {
  ensureDir(path.dirname(file));
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
}
