import { randomBytes } from "crypto";
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
  readonly redis: string;
  readonly minioRoot: string;
  readonly kafkaAdmin: string;
  readonly kafkaClient: string;
  readonly prometheus: string;
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

export const SECRETS_FILE = path.join(CONF, "secrets.json");

export function loadOrCreateSecrets(): SandboxSecrets {
  const dbPasswords = (have: Partial<Record<DatabaseName, string>> = {}) =>
    Object.fromEntries((Object.keys(DATABASES) as DatabaseName[]).map((k) => [k, have[k] ?? generatePassword()])) as Record<DatabaseName, string>;
  if (fs.existsSync(SECRETS_FILE)) {
    const s = JSON.parse(fs.readFileSync(SECRETS_FILE, "utf8")) as SandboxSecrets;
    // A database added since the file was written gets its password now.
    if (Object.keys(DATABASES).some((k) => !(k in s.postgres))) {
      const updated = { ...s, postgres: dbPasswords(s.postgres) };
      fs.writeFileSync(SECRETS_FILE, JSON.stringify(updated, null, 2), { mode: 0o600 });
      return updated;
    }
    return s;
  }
  const s: SandboxSecrets = {
    postgresAdmin: generatePassword(),
    postgres: dbPasswords(),
    mariadbApp: generatePassword(),
    mariadbCdc: generatePassword(),
    redis: generatePassword(),
    minioRoot: generatePassword(),
    kafkaAdmin: generatePassword(),
    kafkaClient: generatePassword(),
    prometheus: generatePassword(),
  };
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
