import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SecretKey, suppliedSecret } from "./config";

/**
 * A password: the operator's secret config value when supplied, else a generated one. Either way a
 * Pulumi secret, encrypted in state and masked in outputs. Alphanumeric so it survives URLs, JDBC
 * strings and shell quoting; 32 characters give ~190 bits.
 */
export function password(name: string, parent: pulumi.Resource, configKey?: SecretKey): pulumi.Output<string> {
  const supplied = configKey ? suppliedSecret(configKey) : undefined;
  if (supplied) return pulumi.secret(supplied);
  // RandomPassword's result is secret by its schema; saying so here keeps it secret in every engine (mocks too).
  return pulumi.secret(new random.RandomPassword(name, { length: 32, special: false }, { parent }).result);
}
