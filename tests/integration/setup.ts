import { up } from "../../sandbox";
import { upLocalStack } from "../../sandbox/stack";

/**
 * Starts the real services once per run (idempotent: a running sandbox is reused), then deploys the
 * `local` stack on them through the Pulumi engine (topics, jobs, alert rules), as `npm run demo` does.
 */
export default async function setup(): Promise<void> {
  const r = await up();
  process.stderr.write(`\n[integration] sandbox healthy in ${r.seconds.toFixed(1)} s\n`);
  const t0 = Date.now();
  await upLocalStack({ quiet: true });
  process.stderr.write(`[integration] pulumi up --stack local in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
