import * as pulumi from "@pulumi/pulumi";
import { connected, Login, plain, UNKNOWN } from "./mysqlSession";

/**
 * One StarRocks user's grants (sql/starrocks/90_users.sql) as a resource. The bootstrap creates the
 * users, sets their passwords and runs the file's GRANTs, but a grant removed from the file stayed
 * granted, silently, for ever. Here a grant removed from the file is revoked at `up`, a grant added is
 * granted, and preview lists both; a user removed from the file loses every grant it had (its login is
 * left to the operators). StarRocks only (the sandbox's MySQL stand-in has its own users): on StarRocks
 * these are the statements rendered here (unit-tested), not run.
 */
export interface UserGrantsInputs extends Login {
  /** 'user'@'host' */
  readonly grantee: string;
  /** "<privileges> ON <objects>", one per GRANT of the file. */
  readonly grants: readonly string[];
  readonly file: string;
  /** What `up` will do; set by check(). */
  readonly plannedAction?: string;
}

/** The GRANTs and REVOKEs that bring a user from the grants last applied (none on create) to the file's. */
export function grantStatements(grantee: string, before: readonly string[], after: readonly string[]): string[] {
  const norm = (g: string) => g.replace(/\s+/g, " ").trim();
  const had = new Set(before.map(norm));
  const wants = new Set(after.map(norm));
  return [...[...had].filter((g) => !wants.has(g)).map((g) => `REVOKE ${g} FROM USER ${grantee}`), ...[...wants].filter((g) => !had.has(g)).map((g) => `GRANT ${g} TO USER ${grantee}`)];
}

async function applyGrants(i: UserGrantsInputs, statements: readonly string[]): Promise<void> {
  if (!statements.length) return;
  await connected(i, `${i.file}: ${i.grantee}`, async (q) => {
    for (const s of statements) await q(s);
  });
}

export const userGrantsProvider: pulumi.dynamic.ResourceProvider<UserGrantsInputs, UserGrantsInputs> = {
  async check(olds, news) {
    const planned = grantStatements(news.grantee, olds?.grants ?? [], news.grants);
    return { inputs: plain({ ...news, plannedAction: planned.length ? planned.join("; ") : "no change" }) };
  },
  async diff(_id, olds, news) {
    const moved = olds.address !== news.address && !news.address.includes(UNKNOWN);
    return { changes: grantStatements(news.grantee, olds.grants, news.grants).length > 0 || moved || olds.user !== news.user, replaces: olds.grantee !== news.grantee ? ["grantee"] : [] };
  },
  async create(inputs) {
    await applyGrants(inputs, grantStatements(inputs.grantee, [], inputs.grants));
    return { id: inputs.grantee, outs: plain({ ...inputs, plannedAction: undefined }) };
  },
  async update(_id, olds, news) {
    await applyGrants(news, grantStatements(news.grantee, olds.grants, news.grants));
    return { outs: plain({ ...news, plannedAction: undefined }) };
  },
  // Least privilege: a user gone from the file keeps no grant.
  async delete(_id, props) {
    await applyGrants(props, grantStatements(props.grantee, props.grants, []));
  },
};

export class UserGrants extends pulumi.dynamic.Resource {
  declare readonly plannedAction: pulumi.Output<string>;

  constructor(name: string, args: { readonly [K in keyof Omit<UserGrantsInputs, "plannedAction">]: pulumi.Input<UserGrantsInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(userGrantsProvider, name, { ...args, plannedAction: undefined }, { ...opts, additionalSecretOutputs: ["password"] }, "rtdw", "UserGrants");
  }
}
