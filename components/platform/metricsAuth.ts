import { createHash, createHmac } from "crypto";

/**
 * Credentials Prometheus and the services it scrapes share, derived deterministically from the
 * stack's secrets: a preview never shows a change unless a secret really changed.
 */

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** 2100-01-01: MinIO's own `mc admin prometheus generate` also issues a token that does not expire in practice. */
const MINIO_TOKEN_EXPIRY = 4102444800;

/**
 * The bearer token MinIO accepts on its metrics endpoints (MINIO_PROMETHEUS_AUTH_TYPE=jwt, the
 * default): an HS512 JWT for an access key, signed with its secret key, issuer "prometheus".
 */
export function minioMetricsToken(accessKey: string, secretKey: string): string {
  const header = b64url(JSON.stringify({ alg: "HS512", typ: "JWT" }));
  const claims = b64url(JSON.stringify({ exp: MINIO_TOKEN_EXPIRY, sub: accessKey, iss: "prometheus" }));
  const signature = createHmac("sha512", secretKey).update(`${header}.${claims}`).digest("base64url");
  return `${header}.${claims}.${signature}`;
}

const BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A bcrypt hash for the exporters' and Prometheus' web.config.yml (basic_auth_users). The salt is
 * derived from the password, so the same password renders the same file (no perpetual diff), and a
 * new password a new file.
 */
export function bcryptHash(password: string, cost = 10): string {
  const bcrypt = require("bcryptjs") as typeof import("bcryptjs");
  const digest = createHash("sha256").update(`rtdw-web-config:${password}`).digest();
  // 22 characters of bcrypt's base64 alphabet make the 128-bit salt.
  let salt = "";
  for (let i = 0; i < 22; i++) salt += BCRYPT_ALPHABET[digest[i] % 64];
  return bcrypt.hashSync(password, `$2b$${String(cost).padStart(2, "0")}$${salt}`);
}

/** An exporter-toolkit web config (Prometheus, Alertmanager, postgres_exporter...): basic auth for one user. */
export function webConfig(users: Readonly<Record<string, string>>): string {
  return `basic_auth_users:\n${Object.entries(users)
    .map(([u, pw]) => `  ${u}: ${bcryptHash(pw)}\n`)
    .join("")}`;
}
