import { getAnswer, validateAnswer } from "./answers";
import { isHttpError, requestJson, RetryPolicy } from "../platform/http";

/**
 * Client of the Flink SQL Gateway REST API (v2 paths, Flink 1.20): sessions, statements, results.
 * See docs/static/generated/rest_v3_sql_gateway.yml in apache/flink.
 */

export type OperationStatus = "INITIALIZED" | "PENDING" | "RUNNING" | "FINISHED" | "CANCELED" | "CLOSED" | "ERROR" | "TIMEOUT";
const TERMINAL: OperationStatus[] = ["FINISHED", "CANCELED", "CLOSED", "ERROR", "TIMEOUT"];

export interface StatementResult {
  readonly columns: string[];
  readonly rows: unknown[][];
  /** Set for INSERT / statement sets: the submitted job. */
  readonly jobId?: string;
}

/** A statement Flink refused or that did not finish; made with sqlGatewayError() (see httpError for why not a class). */
export interface SqlGatewayError extends Error {
  readonly statement: string;
  /** The gateway may have run the statement although the call failed (see http.ts). */
  readonly maybeApplied: boolean;
}

export function sqlGatewayError(message: string, statement: string, maybeApplied = false): SqlGatewayError {
  return Object.assign(new Error(message), { name: "SqlGatewayError", statement, maybeApplied });
}

export class SqlGatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly retry?: RetryPolicy,
  ) {}

  private url(path: string) {
    return `${this.baseUrl.replace(/\/$/, "")}/v2${path}`;
  }

  async openSession(properties: Record<string, string> = {}, sessionName?: string): Promise<string> {
    const r = await getAnswer("session", "POST", this.url("/sessions"), { properties, sessionName }, { retry: this.retry });
    return r.sessionHandle;
  }

  async closeSession(session: string): Promise<void> {
    await requestJson("DELETE", this.url(`/sessions/${session}`), undefined, { retry: this.retry });
  }

  /**
   * Runs one statement to completion and returns all its rows. For INSERT the result is the job id
   * (the job itself keeps running on the cluster). Throws with Flink's own error text.
   */
  async execute(session: string, statement: string, executionConfig: Record<string, string> = {}, timeoutMs = 120000): Promise<StatementResult> {
    const { operationHandle } = await getAnswer(
      "statement",
      "POST",
      this.url(`/sessions/${session}/statements`),
      { statement, executionConfig },
      // A statement may submit a job: sent again only when it never reached the gateway.
      { retry: this.retry, idempotent: false },
    );
    const op = `/sessions/${session}/operations/${operationHandle}`;
    const deadline = Date.now() + timeoutMs;
    const columns: string[] = [];
    const rows: unknown[][] = [];
    let jobId: string | undefined;
    let next: string | undefined = `${op}/result/0?rowFormat=JSON`;
    while (next) {
      const pageUrl = this.url(next.replace(/^\/v\d/, ""));
      let answer: unknown;
      try {
        answer = await requestJson<unknown>("GET", pageUrl, undefined, { retry: this.retry });
      } catch (e) {
        throw sqlGatewayError(`Flink rejected the statement: ${rootCause(e as Error)}`, statement);
      }
      const page = validateAnswer("resultPage", `GET ${pageUrl}`, answer);
      jobId = jobId ?? page.jobID ?? undefined;
      if (page.resultType === "NOT_READY") {
        if (Date.now() > deadline) throw sqlGatewayError(`statement still running after ${timeoutMs} ms`, statement);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (!columns.length && page.results?.columns) columns.push(...page.results.columns.map((c) => c.name));
      for (const d of page.results?.data ?? []) rows.push(d.fields);
      next = page.resultType === "EOS" ? undefined : (page.nextResultUri ?? undefined);
    }
    await requestJson("DELETE", this.url(`${op}/close`), undefined, { retry: this.retry }).catch(() => undefined);
    return { columns, rows, jobId: jobId ?? (columns[0] === "job id" ? String(rows[0]?.[0]) : procedureJobId(rows)) };
  }

  async status(session: string, operation: string): Promise<OperationStatus> {
    const r = await getAnswer("operationStatus", "GET", this.url(`/sessions/${session}/operations/${operation}/status`), undefined, { retry: this.retry });
    return r.status as OperationStatus;
  }
}

export function isTerminal(s: OperationStatus) {
  return TERMINAL.includes(s);
}

/** Flink's errors arrive as Java stack traces inside {"errors": [...]}: keep the deepest causes. */
export function rootCause(e: Error): string {
  let text = e.message;
  if (isHttpError(e) && e.body) {
    try {
      text = (JSON.parse(e.body).errors ?? []).join("\n") || text;
    } catch {
      text = e.body;
    }
  }
  const causes = [...text.matchAll(/^Caused by: (.+)$/gm)].map((m) => m[1].trim());
  const first = text.split("\n").find((l) => /Exception|Error/.test(l))?.trim();
  const picked = causes.length ? causes.slice(-2).reverse().join(" <- caused ") : first ?? text;
  return picked.slice(0, 2000);
}

/** A Paimon procedure that starts a streaming job (CALL sys.compact…, table.dml-sync off) answers one row "JobID=<id>". */
function procedureJobId(rows: unknown[][]): string | undefined {
  const m = rows.length === 1 && typeof rows[0][0] === "string" ? /^JobID=([0-9a-f]{32})$/.exec(rows[0][0]) : null;
  return m ? m[1] : undefined;
}

/**
 * The session cluster a job runs on, as the SQL Gateway reaches it: the gateway session's
 * `rest.address`/`rest.port`, so one gateway submits each job to its own cluster (measured on Flink
 * 1.20.3, ../shared/reference/flink-per-job-clusters.md).
 */
export interface SessionCluster {
  readonly address: string;
  readonly port: number;
}

/** The gateway session's properties that send its jobs to `cluster` (the gateway's own cluster without one). */
export function clusterProperties(cluster: SessionCluster | undefined): Record<string, string> {
  return cluster ? { "rest.address": cluster.address, "rest.port": String(cluster.port) } : {};
}
