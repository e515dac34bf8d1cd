import { up } from "../../sandbox";

/** Starts the real services once per run (idempotent: a running sandbox is reused). */
export default async function setup(): Promise<void> {
  const r = await up();
  process.stderr.write(`\n[integration] sandbox healthy in ${r.seconds.toFixed(1)} s\n`);
}
