import { createHmac } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SecretKey, suppliedSecret } from "./index";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * The password named `name` derived from the stack's credential seed: HMAC-SHA256 blocks, bytes
 * below 248 mapped onto 62 characters (no modulo bias). The same seed and name give the same
 * password on any machine and any state; another name gives an unrelated one.
 */
export function derivePassword(seed: string, name: string, length = 32): string {
  let out = "";
  for (let block = 0; out.length < length; block++) {
    for (const b of createHmac("sha256", seed).update(`rtdw-password\0${name}\0${block}`).digest()) {
      if (b < 248) out += ALPHANUMERIC[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/**
 * A password: the operator's secret config value when supplied; else derived from rtdw:credentialSeed
 * when the stack has one (it survives a lost state: the stack file keeps the seed); else generated
 * into the state. Either way a Pulumi secret, encrypted in state and masked in outputs. Alphanumeric
 * so it survives URLs, JDBC strings and shell quoting; 32 characters give ~190 bits.
 */
export function password(name: string, parent: pulumi.Resource, configKey?: SecretKey): pulumi.Output<string> {
  const supplied = configKey ? suppliedSecret(configKey) : undefined;
  if (supplied) return pulumi.secret(supplied);
  const seed = suppliedSecret("credentialSeed");
  if (seed) return pulumi.secret(seed.apply((s) => derivePassword(s, name)));
  // RandomPassword's result is secret by its schema; saying so here keeps it secret in every engine (mocks too).
  return pulumi.secret(new random.RandomPassword(name, { length: 32, special: false }, { parent }).result);
}
