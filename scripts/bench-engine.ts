/**
 * `npm run bench:engine`: what the Pulumi engine costs on the `local` stack, against a baseline run
 * in the same script: a minimal TypeScript program with one dynamic resource, on the same engine,
 * backend and machine. Each command is timed over several runs (median); reported are the wall times
 * and the ratio local / minimal for `preview` and `up` with nothing to change, which is what a user
 * waits for on every run. Needs the sandbox up and the local stack deployed (`npm run demo`).
 * Results go to stdout and bench/engine.json; nothing here is a pass/fail test.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { forgetStack, pulumi, PulumiResult } from "../sandbox/engine";
import { up } from "../sandbox";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const REPO = path.resolve(__dirname, "..");
const say = (m: string) => process.stderr.write(`[bench:engine] ${m}\n`);

const MINIMAL_PROGRAM = `import * as pulumi from "@pulumi/pulumi";

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: "one", outs: inputs };
  },
};

class One extends pulumi.dynamic.Resource {
  constructor(name: string, args: { value: pulumi.Input<string> }) {
    super(provider, name, args, {});
  }
}

export const id = new One("one", { value: "v" }).id;
`;

async function timed(what: string, stack: string, args: string[], cwd: string): Promise<number> {
  const r: PulumiResult = await pulumi(stack, args, { quiet: true, cwd });
  if (r.code !== 0) throw new Error(`${what}: pulumi ${args.join(" ")} exited ${r.code}:\n${(r.stdout + r.stderr).slice(-3000)}`);
  return r.seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function series(what: string, stack: string, args: string[], cwd: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timed(what, stack, args, cwd));
  say(`${what}: ${times.map((t) => t.toFixed(1)).join(", ")} s`);
  return median(times);
}

async function main() {
  await up();
  const minimal = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-minimal-"));
  fs.writeFileSync(path.join(minimal, "Pulumi.yaml"), "name: rtdw-minimal\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
  fs.writeFileSync(path.join(minimal, "Pulumi.bench.yaml"), "config: {}\n");
  fs.writeFileSync(path.join(minimal, "index.ts"), MINIMAL_PROGRAM);
  fs.writeFileSync(path.join(minimal, "package.json"), JSON.stringify({ name: "rtdw-minimal", main: "index.ts" }));
  fs.writeFileSync(path.join(minimal, "tsconfig.json"), JSON.stringify({ compilerOptions: { target: "ES2022", module: "commonjs", moduleResolution: "node10", ignoreDeprecations: "6.0", strict: true, rootDir: ".", skipLibCheck: true, types: [] } }));
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(minimal, "node_modules"));
  try {
    await forgetStack("bench", minimal);
    await timed("minimal: first up", "bench", ["up", "--yes"], minimal);
    const baseline = {
      preview: await series("minimal: preview, no change", "bench", ["preview"], minimal),
      up: await series("minimal: up, no change", "bench", ["up", "--yes"], minimal),
    };
    await timed("local: bring up to date", "local", ["up", "--yes", "--refresh"], REPO);
    const local = {
      preview: await series("local: preview, no change", "local", ["preview"], REPO),
      up: await series("local: up, no change", "local", ["up", "--yes"], REPO),
      refresh: await series("local: refresh (reads 8 jobs, the topics and the rule file)", "local", ["refresh", "--yes"], REPO),
    };
    await timed("minimal: destroy", "bench", ["destroy", "--yes"], minimal);
    await forgetStack("bench", minimal);
    const results = {
      machine: { cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
      runs: RUNS,
      seconds: { minimal: baseline, local },
      ratio: { preview: local.preview / baseline.preview, up: local.up / baseline.up },
    };
    fs.mkdirSync(path.join(REPO, "bench"), { recursive: true });
    fs.writeFileSync(path.join(REPO, "bench", "engine.json"), JSON.stringify(results, null, 2));
    console.log(`engine wall times (median of ${RUNS}, ${results.machine.cores} cores)
                         minimal (1 resource)   local (14 resources)   local / minimal
  preview, no change     ${baseline.preview.toFixed(1).padStart(6)} s               ${local.preview.toFixed(1).padStart(6)} s               ${results.ratio.preview.toFixed(2)}
  up, no change          ${baseline.up.toFixed(1).padStart(6)} s               ${local.up.toFixed(1).padStart(6)} s               ${results.ratio.up.toFixed(2)}
  refresh                                        ${local.refresh.toFixed(1).padStart(6)} s`);
  } finally {
    fs.rmSync(minimal, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench:engine failed: ${(e as Error).message}`);
    process.exit(1);
  },
);
