import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as mysql from "mysql2/promise";
import { JobManagerClient } from "../../components/flink/jobManager";
import { SqlGatewayClient } from "../../components/flink/sqlGateway";
import { submitJobScript } from "../../components/flink/submit";
import { renderSql, splitStatements, withSecrets } from "../../components/jobs/render";
import { jobScript } from "../../components/jobs/script";
import { loadJobTable, SQL_DIR } from "../../components/jobs/table";
import { sandboxJobEnvironment, sandboxJobSecrets } from "../../sandbox/jobs";
import { RUN } from "../../sandbox/paths";
import { sandbox } from "./sandbox";

/** The sandbox runs every job at parallelism 1 and checkpoints every few seconds, so rows show up fast. */
export const SANDBOX_CHECKPOINT_MS = 5000;

export function flink() {
  const { endpoints } = sandbox();
  return { gw: new SqlGatewayClient(endpoints.flink.sqlGatewayUrl), jm: new JobManagerClient(endpoints.flink.restUrl) };
}

const STATE = path.join(RUN, "pipeline-jobs.json");

/**
 * Makes the named jobs of the job table run on the sandbox with the SQL as it is now: a job already
 * running from the same script is kept (so a second test run does not restart the pipeline); a job
 * running an older script is stopped with a savepoint and the current script resumes from it (as the
 * FlinkSqlJob upgrade does), so the CDC source continues from its binlog position instead of reading
 * the whole database again. A fresh CDC job is given two checkpoints to finish its initial snapshot:
 * changes made while the snapshot still runs may reach ODS twice (DWD absorbs them by key).
 */
export async function ensureJobs(names: string[]): Promise<Record<string, string>> {
  const { gw, jm } = flink();
  const env = sandboxJobEnvironment();
  const known: Record<string, { jobId: string; hash: string }> = fs.existsSync(STATE) ? JSON.parse(fs.readFileSync(STATE, "utf8")) : {};
  const running = (await jm.jobs()).filter((j) => ["RUNNING", "RESTARTING", "INITIALIZING", "CREATED"].includes(j.state));
  const ids: Record<string, string> = {};
  const fresh: string[] = [];
  for (const job of loadJobTable().filter((j) => names.includes(j.name))) {
    const script = jobScript(job, env, { parallelism: 1, checkpointIntervalMs: SANDBOX_CHECKPOINT_MS });
    const hash = createHash("sha256").update(JSON.stringify(script)).digest("hex");
    const mine = running.filter((j) => j.name === job.name);
    const same = mine.find((j) => j.jid === known[job.name]?.jobId && known[job.name].hash === hash);
    if (same) {
      ids[job.name] = same.jid;
      continue;
    }
    let savepointPath: string | undefined;
    for (const old of mine) {
      savepointPath = await jm.stopWithSavepoint(old.jid).catch(async () => {
        await jm.cancel(old.jid).catch(() => undefined);
        return undefined;
      });
      await jm.waitFor(old.jid, ["CANCELED", "FAILED", "FINISHED"]);
    }
    ids[job.name] = await submitJobScript(gw, script, sandboxJobSecrets(), { savepointPath, allowNonRestoredState: true });
    if (!savepointPath) fresh.push(job.name);
    known[job.name] = { jobId: ids[job.name], hash };
    fs.writeFileSync(STATE, JSON.stringify(known, null, 2));
  }
  for (const id of Object.values(ids)) await jm.waitFor(id, ["RUNNING"], 180000);
  for (const name of fresh.filter((n) => n === "rt-dw-cdc-ingestion")) await jm.waitForCheckpoints(ids[name], 2, 180000);
  return ids;
}

/** A batch session on the Paimon catalog for reading what the jobs wrote. */
export class PaimonReader {
  private session = "";
  constructor(private readonly gw = flink().gw) {}

  async open() {
    this.session = await this.gw.openSession({ "execution.runtime-mode": "batch", "table.local-time-zone": sandboxJobEnvironment().timeZone }, `reader-${Date.now()}`);
    const catalog = renderSql(fs.readFileSync(path.join(SQL_DIR, "catalog.sql"), "utf8"), sandboxJobEnvironment(), "catalog.sql");
    for (const s of splitStatements(catalog)) await this.gw.execute(this.session, withSecrets(s, sandboxJobSecrets()));
    return this;
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const r = await this.gw.execute(this.session, sql, {}, 300000);
    return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i]])));
  }

  async close() {
    if (this.session) await this.gw.closeSession(this.session).catch(() => undefined);
  }
}

/** Polls `read` until `done` holds, or fails showing the last value read. */
export async function eventually<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 120000, everyMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not reached after ${timeoutMs} ms; last read: ${JSON.stringify(last)?.slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function shopConnection(database?: string) {
  const { endpoints, credentials } = sandbox();
  return mysql.createConnection({
    host: endpoints.mysql.host,
    port: endpoints.mysql.port,
    user: endpoints.mysql.user,
    password: credentials.mysql.password,
    database: database ?? endpoints.mysql.database,
    dateStrings: true,
    decimalNumbers: true,
  });
}

/** A block of ids no earlier run used (rows of earlier runs stay in the sandbox's tables). */
export function idBlock(size = 100000): number {
  return (Math.floor(Date.now() / 10) % 1_000_000_000) * size;
}
