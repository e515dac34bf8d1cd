import { JobScript } from "./script";
import { SecretName, withSecrets } from "./render";
import { clusterProperties, SessionCluster, SqlGatewayClient, sqlGatewayError } from "../flink/sqlGateway";

export interface SubmitOptions {
  /** Restore from this savepoint or retained checkpoint. */
  readonly savepointPath?: string;
  /** Skip state that no longer maps to an operator (set when the SQL changed shape). */
  readonly allowNonRestoredState?: boolean;
  /** execution.checkpointing.dir of this job (by job name, so a rebuild finds its checkpoints). */
  readonly checkpointDir?: string;
  /** The session cluster to run on, as the gateway reaches it; unset, the gateway's own. */
  readonly cluster?: SessionCluster;
}

/**
 * Runs a job script in a fresh SQL Gateway session and returns the submitted job's id. Secrets are
 * substituted statement by statement as each is sent, and never logged: an error names the
 * statement by its first line with the secret placeholders still in place.
 */
export async function submitJobScript(gw: SqlGatewayClient, script: JobScript, secrets: Partial<Record<SecretName, string>>, o: SubmitOptions = {}): Promise<string> {
  const config: Record<string, string> = { ...script.config, ...(o.checkpointDir ? { "execution.checkpointing.dir": o.checkpointDir } : {}), ...clusterProperties(o.cluster) };
  if (o.savepointPath) {
    config["execution.state-recovery.path"] = o.savepointPath;
    config["execution.state-recovery.ignore-unclaimed-state"] = String(o.allowNonRestoredState ?? false);
  }
  const session = await gw.openSession(config, `${script.job}-${Date.now()}`);
  try {
    let jobId: string | undefined;
    for (const stmt of script.statements) {
      try {
        jobId = (await gw.execute(session, withSecrets(stmt, secrets))).jobId ?? jobId;
      } catch (e) {
        const head = stmt.split("\n").find((l) => l.trim()) ?? stmt;
        const maybeApplied = (e as { maybeApplied?: boolean }).maybeApplied === true;
        const message = String((e as Error)?.message ?? e);
        throw sqlGatewayError(`${script.job}: ${message.split(withSecretsValues(secrets)).join("***")} (statement: ${head.slice(0, 120)})`, stmt, maybeApplied);
      }
    }
    if (!jobId) throw new Error(`${script.job}: the script ran but submitted no job`);
    return jobId;
  } finally {
    await gw.closeSession(session).catch(() => undefined);
  }
}

// Flink echoes options in some errors; no secret value may reach a message.
function withSecretsValues(secrets: Partial<Record<SecretName, string>>): RegExp {
  const values = Object.values(secrets).filter((v): v is string => !!v && v.length >= 4);
  return values.length ? new RegExp(values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g") : /$^/;
}

/** Statements that change only the session (a preview must not create or alter anything in the catalog). */
const SESSION_ONLY = /^\s*(SET\b|USE\b|CREATE\s+CATALOG\b|CREATE\s+TEMPORARY\b|CREATE\s+FUNCTION\b|CREATE\s+TEMPORARY\s+FUNCTION\b)/i;

/**
 * The job's execution plan (EXPLAIN JSON_EXECUTION_PLAN of its submitting statement) without
 * submitting anything: the session runs the script's session-only statements (catalog, temporary
 * tables and views) and skips persistent DDL, which the catalog step has applied already.
 */
export async function explainJobScript(gw: SqlGatewayClient, script: JobScript, secrets: Partial<Record<SecretName, string>>): Promise<string> {
  const session = await gw.openSession({ ...script.config }, `${script.job}-explain-${Date.now()}`);
  const values = withSecretsValues(secrets);
  try {
    const statements = script.statements;
    for (const stmt of statements.slice(0, -1)) {
      const sql = stmt.replace(/^(\s*--[^\n]*\n)*/, "");
      if (!SESSION_ONLY.test(sql)) continue;
      try {
        await gw.execute(session, withSecrets(stmt, secrets));
      } catch (e) {
        throw new Error(`${script.job}: ${String((e as Error).message).split(values).join("***")} (statement: ${(stmt.split("\n").find((l) => l.trim()) ?? stmt).slice(0, 120)})`);
      }
    }
    const last = (statements[statements.length - 1] ?? "").replace(/^(\s*--[^\n]*\n)*/, "");
    const explain = `EXPLAIN JSON_EXECUTION_PLAN ${last.replace(/^\s*EXECUTE\s+STATEMENT\s+SET/i, "STATEMENT SET")}`;
    try {
      const r = await gw.execute(session, withSecrets(explain, secrets));
      return String(r.rows[0]?.[0] ?? "");
    } catch (e) {
      throw new Error(`${script.job}: EXPLAIN failed: ${String((e as Error).message).split(values).join("***")}`);
    }
  } finally {
    await gw.closeSession(session).catch(() => undefined);
  }
}
