/**
 * `npm run rebuild -- --stack <name>`: the disaster rebuild, in one command.
 *   1. the platform: for the `local` stack, the sandbox's services are started (the provisioned
 *      stacks re-create theirs in step 3);
 *   2. the state: kept in a versioned bucket (PULUMI_BACKEND_URL=s3://…, the sandbox's own bucket for
 *      `local`). Present: used. Deleted: its newest version is restored. Never written: a new stack;
 *   3. `pulumi up --refresh`: every resource converges; every stateful job resumes from its newest
 *      retained state, found by job name in the checkpoints bucket (savepoints/<job>, checkpoints/<job>)
 *      when the cluster no longer knows it.
 * Prints per job where it resumed from, and the wall time (the RTO of this run).
 */
import { pulumi, stateBackend } from "../sandbox/engine";
import { restoreStackState } from "../sandbox/stateBucket";

export interface RebuildReport {
  readonly stack: string;
  readonly state: "present" | "restored" | "new";
  readonly stateVersion?: string;
  readonly jobs: Record<string, { readonly status: string; readonly restoredFrom?: string }>;
  readonly seconds: number;
}

const PROJECT = "rtdw";

async function rebuild(stack: string): Promise<RebuildReport> {
  const t0 = Date.now();
  if (stack === "local") {
    const { up } = require("../sandbox") as typeof import("../sandbox");
    await up();
  }
  const backend = stateBackend();
  let state: RebuildReport["state"] = "present";
  let stateVersion: string | undefined;
  if (backend) {
    const r = await restoreStackState(backend.s3, PROJECT, stack, backend.accessKey, backend.secretKey);
    if (r.action === "restored") {
      state = "restored";
      stateVersion = `${r.version?.versionId} (${r.version?.lastModified.toISOString()})`;
      process.stderr.write(`[rebuild] state of ${stack} restored from its version of ${r.version?.lastModified.toISOString()}\n`);
    } else if (r.action === "none") state = "new";
  }
  const up = await pulumi(stack, ["up", "--yes", "--refresh", "--skip-preview"], { quiet: false });
  if (up.code !== 0) throw new Error(`pulumi up --stack ${stack} failed (exit ${up.code}); its output is above`);
  const out = await pulumi(stack, ["stack", "export"], { quiet: true });
  const resources = (JSON.parse(out.stdout) as { deployment: { resources?: { type: string; urn: string; outputs?: Record<string, unknown> }[] } }).deployment.resources ?? [];
  const jobs: RebuildReport["jobs"] = {};
  for (const r of resources.filter((x) => x.urn.includes("rtdw:FlinkSqlJob"))) {
    const o = r.outputs ?? {};
    jobs[String(o.name ?? r.urn)] = { status: String(o.status), restoredFrom: o.restoredFrom === undefined ? undefined : String(o.restoredFrom) };
  }
  return { stack, state, stateVersion, jobs, seconds: (Date.now() - t0) / 1000 };
}

async function main(argv: string[]): Promise<number> {
  let stack: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--stack" || argv[i] === "-s") stack = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}; usage: npm run rebuild -- --stack <name>`);
  }
  if (!stack) throw new Error("usage: npm run rebuild -- --stack <name>");
  const r = await rebuild(stack);
  console.log(`\nrebuild of ${r.stack}: state ${r.state}${r.stateVersion ? ` (version ${r.stateVersion})` : ""}, ${r.seconds.toFixed(0)} s`);
  for (const [name, j] of Object.entries(r.jobs)) console.log(`  ${name.padEnd(24)} ${j.status.padEnd(8)} ${j.restoredFrom ? `resumed from ${j.restoredFrom}` : "started empty (stateless or no retained state)"}`);
  console.log(`REBUILD_REPORT ${JSON.stringify(r)}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`rebuild: ${(e as Error).message}`);
    process.exit(1);
  },
);
