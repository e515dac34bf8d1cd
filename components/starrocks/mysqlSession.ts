import { withApiAccess } from "../platform/tunnel";

/**
 * A session with a DWS server over the MySQL protocol (StarRocks' FE, or the MySQL-protocol stand-in
 * where StarRocks cannot run), for the resources that manage its objects from the deploying machine.
 */

/** Waiting for a server that may be created in the same `up`. */
const CONNECT_ATTEMPTS = 30;
/** A value the engine does not know yet (a preview before the platform exists). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Query = (sql: string, values?: unknown[]) => Promise<unknown[]>;

/** Where and as whom a DWS object is reached. */
export interface Login {
  /** mysql://host:port of the server's query port (a cluster-internal name is reached through the tunnel). */
  readonly address: string;
  readonly tunnel?: { readonly context?: string };
  readonly user: string;
  readonly password: string;
}

export async function connected<T>(i: Login, what: string, fn: (q: Query) => Promise<T>): Promise<T> {
  const url = i.address.replace(/^mysql:/, "http:");
  return withApiAccess([url], i.tunnel, async (reach) => {
    const u = new URL(reach(url));
    const mysql = require("mysql2/promise") as typeof import("mysql2/promise");
    let conn: import("mysql2/promise").Connection | undefined;
    for (let attempt = 1; !conn; attempt++) {
      try {
        conn = await mysql.createConnection({ host: u.hostname, port: Number(u.port), user: i.user, password: i.password, connectTimeout: 5000 });
      } catch (e) {
        const code = (e as { code?: string }).code;
        // A wrong password is not going to get better; a server still starting may.
        if (attempt >= CONNECT_ATTEMPTS || code === "ER_ACCESS_DENIED_ERROR") throw new Error(`${what}: cannot log in to ${i.address} as ${i.user}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 10000)));
      }
    }
    try {
      return await fn(async (sql, values) => (await conn!.query(sql, values))[0] as unknown[]);
    } finally {
      await conn.end().catch(() => undefined);
    }
  });
}

/** Outputs travel as a protobuf Struct, which has no `undefined`. */
export const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Two queries that differ only in whitespace are the same query. */
export const sameQuery = (a: string, b: string) => a.replace(/\s+/g, " ").trim() === b.replace(/\s+/g, " ").trim();

/** db.name quoted for StarRocks and MySQL. */
export const qualifiedName = (name: string) => name.split(".").map((p) => `\`${p}\``).join(".");

/** A DWS object read on refresh: one dropped by hand is gone from the state, so the next `up` creates it again. */
export async function readIfExists<P extends Login & { readonly file: string; readonly name: string }>(id: string, p: P, exists: (p: P, q: Query) => Promise<boolean>): Promise<{ id?: string; props?: P }> {
  return (await connected(p, `${p.file}: ${p.name}`, (q) => exists(p, q))) ? { id, props: p } : {};
}
