/**
 * `npm run preview -- --stack <name> [--out <file>]`: runs `pulumi preview --diff --json` on the
 * stack and writes the reviewer's Markdown report (scripts/previewReport.ts) to <file> (default
 * preview-<stack>.md) and to stdout. Exit code: the preview's.
 */
import * as fs from "fs";
import { pulumi } from "../sandbox/engine";
import { loadOrCreateSecrets, SECRETS_FILE } from "../sandbox/credentials";
import { renderPreviewReport, PreviewJson, surroundings } from "./previewReport";

/** Secret values this machine knows (environment, the sandbox's generated ones): none may be in the report. */
function knownSecrets(): string[] {
  const fromEnv = Object.entries(process.env).filter(([k, v]) => /PASSWORD|SECRET|TOKEN|PASSPHRASE|WEBHOOK/i.test(k) && v).map(([, v]) => v!);
  const flat = (v: unknown): string[] => (typeof v === "string" ? [v] : typeof v === "object" && v ? Object.values(v).flatMap(flat) : []);
  const sandbox = fs.existsSync(SECRETS_FILE) ? flat(loadOrCreateSecrets()) : [];
  return [...fromEnv, ...sandbox];
}

async function main(argv: string[]): Promise<number> {
  let stack = "local";
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--stack" || argv[i] === "-s") stack = argv[++i];
    else if (argv[i] === "--out") out = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}; usage: npm run preview -- --stack <name> [--out <file>]`);
  }
  const r = await pulumi(stack, ["preview", "--diff", "--json"], { quiet: true });
  let parsed: PreviewJson;
  try {
    parsed = JSON.parse(r.stdout) as PreviewJson;
  } catch {
    process.stderr.write(r.stderr || r.stdout);
    throw new Error(`pulumi preview --json printed no JSON (exit ${r.code})`);
  }
  const report = renderPreviewReport(stack, parsed, surroundings(), knownSecrets());
  fs.writeFileSync(out ?? `preview-${stack}.md`, report);
  process.stdout.write(report);
  return r.code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`preview: ${(e as Error).message}`);
    process.exit(1);
  },
);
