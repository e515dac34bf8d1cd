/**
 * `npm run pulumi -- <command> [--stack <name>] [flags]`: the Pulumi CLI with the sandbox's engine
 * environment (sandbox/engine.ts): the CLI built from the module proxy unless one is on PATH, the
 * state bucket in the sandbox's MinIO (or PULUMI_BACKEND_URL when set), the generated passphrase. The stack defaults to `local`.
 */
import { pulumi } from "../sandbox/engine";

const argv = process.argv.slice(2);
let stack = "local";
const rest: string[] = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--stack" || argv[i] === "-s") stack = argv[++i];
  else if (argv[i].startsWith("--stack=")) stack = argv[i].slice("--stack=".length);
  else rest.push(argv[i]);
}
if (!rest.length) {
  console.error("usage: npm run pulumi -- <preview|up|refresh|destroy|stack ...> [--stack local] [pulumi flags]");
  process.exit(2);
}
pulumi(stack, rest, { quiet: false }).then(
  (r) => process.exit(r.code),
  (e) => {
    console.error(`pulumi: ${(e as Error).message}`);
    process.exit(1);
  },
);
