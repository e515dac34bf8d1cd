/**
 * The pull-request review of a stack: `pulumi preview --diff --json` turned into Markdown. Per job:
 * what `up` will do (plannedAction), whether its state survives (the verdict the provider computed
 * from the compiled plans), the part of the script that changed, and what the change reaches
 * downstream (tables, jobs, dashboards, alerts, from the lineage derived from the SQL). Per lake
 * table whose schema or options change: the ALTER it gets (or why preview refused it), the jobs that
 * write and read it and what those reach. The other resources' changes follow in one table. Secrets never reach it: the engine prints them as
 * "[secret]" and the report refuses to render a known secret field in any other form.
 */
import { jobLineage, JobLineage } from "../components/jobs/lineage";
import type { StateCheck } from "../components/jobs/provider";
import type { JobScript } from "../components/jobs/script";
import { loadJobTable } from "../components/config/jobTable";
import { ALERTS } from "../components/observability/alerts";
import { dashboards } from "../dashboards";

/** The fields of `pulumi preview --json` this report reads. */
export interface PreviewJson {
  readonly steps?: readonly PreviewStep[];
  readonly changeSummary?: Readonly<Record<string, number>>;
  readonly diagnostics?: readonly { readonly urn?: string; readonly severity?: string; readonly message?: string }[];
}
export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly type?: string;
  readonly oldState?: { readonly inputs?: Record<string, unknown>; readonly outputs?: Record<string, unknown> };
  readonly newState?: { readonly inputs?: Record<string, unknown> };
  readonly diffReasons?: readonly string[];
  readonly detailedDiff?: Readonly<Record<string, { readonly kind?: string }>> | null;
}

/** What a change may reach besides the jobs: names matched in dashboards and alert rules. */
export interface Surroundings {
  readonly lineage: readonly JobLineage[];
  readonly dashboards: readonly { readonly title: string; readonly text: string }[];
  readonly alerts: readonly { readonly name: string; readonly text: string }[];
}

/** This repository's lineage, dashboards and alert rules. */
export function surroundings(): Surroundings {
  return {
    lineage: jobLineage(loadJobTable()),
    dashboards: dashboards().map((d) => ({ title: String(d.title ?? d.uid ?? "dashboard"), text: JSON.stringify(d) })),
    alerts: ALERTS.map((a) => ({ name: a.name, text: `${a.expr}\n${a.summary}` })),
  };
}

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const isScript = (v: unknown): v is JobScript => typeof v === "object" && v !== null && Array.isArray((v as JobScript).statements);

/** A line diff of two texts (longest common subsequence), as unified-diff lines without context limits beyond `context`. */
export function lineDiff(before: string, after: string, context = 2): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: { t: " " | "-" | "+"; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ t: " ", line: a[i++] }), j++;
    else if (i < a.length && (j >= b.length || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ t: "-", line: a[i++] });
    else ops.push({ t: "+", line: b[j++] });
  }
  const keep = ops.map((o, k) => o.t !== " " || ops.slice(Math.max(0, k - context), k + context + 1).some((x) => x.t !== " "));
  const out: string[] = [];
  ops.forEach((o, k) => {
    if (keep[k]) out.push(`${o.t} ${o.line}`);
    else if (k === 0 || keep[k - 1]) out.push("  …");
  });
  return out;
}

function scriptText(s: JobScript): string {
  const config = Object.entries(s.config).map(([k, v]) => `SET '${k}' = '${v}';`);
  return [...config, ...s.statements.map((x) => `${x};`)].join("\n");
}

/** Tables, jobs, dashboards and alerts downstream of what a job writes. */
export function downstreamOf(job: string, s: Surroundings): { tables: string[]; jobs: string[]; dashboards: string[]; alerts: string[] } {
  const tables = new Set<string>();
  const jobs = new Set<string>();
  const queue = [job];
  while (queue.length) {
    const j = queue.shift()!;
    for (const w of s.lineage.find((l) => l.job === j)?.writes ?? []) {
      if (tables.has(w)) continue;
      tables.add(w);
      for (const reader of s.lineage.filter((l) => l.reads.includes(w))) {
        if (!jobs.has(reader.job) && reader.job !== job) {
          jobs.add(reader.job);
          queue.push(reader.job);
        }
      }
    }
  }
  const names = [job, ...jobs, ...[...tables].map((t) => t.slice(t.lastIndexOf(".") + 1).replace(/^.*:/, ""))];
  const mentions = (text: string) => names.some((n) => text.includes(n));
  return {
    tables: [...tables].sort(),
    jobs: [...jobs].sort(),
    dashboards: s.dashboards.filter((d) => mentions(d.text)).map((d) => d.title),
    // Rules over every job's metrics (by job_name) watch this job too.
    alerts: s.alerts.filter((a) => mentions(a.text) || /\bjob_name\b/.test(a.text)).map((a) => a.name),
  };
}

/** Who writes and reads a table (db.table, in the lake or DWS), and what its readers reach downstream. */
export function readersOf(table: string, s: Surroundings): { writers: string[]; readers: string[]; tables: string[]; jobs: string[]; dashboards: string[]; alerts: string[] } {
  const refs = [`paimon:${table}`, `starrocks:${table}`];
  const writers = s.lineage.filter((l) => refs.some((r) => l.writes.includes(r))).map((l) => l.job);
  const readers = s.lineage.filter((l) => refs.some((r) => l.reads.includes(r))).map((l) => l.job);
  const reached = readers.map((r) => downstreamOf(r, s));
  const union = (k: "tables" | "jobs" | "dashboards" | "alerts") => [...new Set(reached.flatMap((d) => d[k]))].sort();
  const short = table.slice(table.indexOf(".") + 1);
  return {
    writers,
    readers,
    tables: union("tables"),
    jobs: union("jobs").filter((j) => !readers.includes(j)),
    dashboards: [...new Set([...union("dashboards"), ...s.dashboards.filter((d) => d.text.includes(table) || d.text.includes(short)).map((d) => d.title)])].sort(),
    alerts: union("alerts"),
  };
}

const isTableStep = (st: PreviewStep) => st.urn.includes("rtdw:PaimonTable") || st.urn.includes("rtdw:DwsTable") || typeof (st.newState?.inputs ?? st.oldState?.inputs)?.declared === "object";

function verdictLine(c: StateCheck | undefined, upgradeMode: unknown): string {
  if (upgradeMode === "stateless") return "stateless job: starts empty by design";
  if (!c) return "—";
  if (c.kind === "unknown") return `unknown (${c.reason})`;
  if (c.restorable) return "**state restorable**";
  return [
    "**state NOT restorable**",
    ...c.dropped.map((d) => `would start empty: \`${d}\``),
    ...c.incompatible.map((d) => `state no longer fits: \`${d}\``),
  ].join("<br>");
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The Markdown report of one stack's preview. `secrets` are values that must not appear (checked). */
export function renderPreviewReport(stack: string, preview: PreviewJson, s: Surroundings, secrets: readonly string[] = []): string {
  const steps = preview.steps ?? [];
  // Jobs are known by their type in the URN, or by their script.
  const jobSteps = steps.filter((st) => st.urn.includes("rtdw:FlinkSqlJob") || isScript(st.newState?.inputs?.script) || isScript(st.oldState?.inputs?.script));
  const tableSteps = steps.filter((st) => !jobSteps.includes(st) && isTableStep(st));
  const others = steps.filter((st) => !jobSteps.includes(st) && !tableSteps.includes(st) && st.op !== "same" && !/pulumi:pulumi:Stack|pulumi:providers:/.test(st.type ?? st.urn));
  const summary = Object.entries(preview.changeSummary ?? {}).map(([op, n]) => `${op} ${n}`).join(", ");
  const out: string[] = [`## Preview of stack \`${stack}\``, "", `Changes: ${summary || "none"}.`, ""];

  const changedJobs = jobSteps.filter((st) => st.op !== "same");
  // The engine's JSON lists unchanged resources not at all: the total is the job table's.
  out.push(`### Flink jobs (${changedJobs.length} of ${Math.max(s.lineage.length, jobSteps.length)} change)`, "");
  if (!changedJobs.length) out.push("No job changes.", "");
  for (const st of changedJobs) {
    const news = st.newState?.inputs ?? {};
    const olds = st.oldState?.inputs ?? {};
    const name = String(news.name ?? olds.name ?? nameOf(st.urn));
    const d = downstreamOf(name, s);
    out.push(`#### \`${name}\` — ${st.op}`, "");
    out.push("| | |", "|---|---|");
    out.push(`| planned action | ${cell(String(news.plannedAction ?? (st.op === "delete" ? "stop with a final savepoint" : "—")))} |`);
    out.push(`| state | ${verdictLine(news.stateCheck as StateCheck | undefined, news.upgradeMode)} |`);
    out.push(`| downstream tables | ${d.tables.map((t) => `\`${t}\``).join(", ") || "—"} |`);
    out.push(`| downstream jobs | ${d.jobs.join(", ") || "—"} |`);
    out.push(`| dashboards | ${d.dashboards.join(", ") || "—"} |`);
    out.push(`| alerts | ${d.alerts.join(", ") || "—"} |`, "");
    if (isScript(olds.script) && isScript(news.script)) {
      const diff = lineDiff(scriptText(olds.script), scriptText(news.script));
      if (diff.some((l) => l.startsWith("+") || l.startsWith("-"))) out.push("```diff", ...diff.slice(0, 200), ...(diff.length > 200 ? [`… ${diff.length - 200} more lines`] : []), "```", "");
    }
  }

  const changedTables = tableSteps.filter((st) => st.op !== "same");
  out.push(`### Tables, lake and DWS (${changedTables.length} change)`, "");
  if (!changedTables.length) out.push("No table changes.", "");
  for (const st of changedTables) {
    const news = st.newState?.inputs ?? {};
    const declared = (news.declared ?? st.oldState?.inputs?.declared) as { name?: string } | undefined;
    const name = String(declared?.name ?? nameOf(st.urn));
    const r = readersOf(name, s);
    out.push(`#### \`${name}\` — ${st.op}`, "");
    out.push("| | |", "|---|---|");
    out.push(`| planned action | ${cell(String(news.plannedAction ?? (st.op === "delete" ? "removed from the files: the table is kept (never dropped)" : "—")))} |`);
    out.push(`| written by | ${r.writers.join(", ") || "—"} |`);
    out.push(`| read by | ${r.readers.join(", ") || "—"} |`);
    out.push(`| downstream tables | ${r.tables.map((t) => `\`${t}\``).join(", ") || "—"} |`);
    out.push(`| downstream jobs | ${r.jobs.join(", ") || "—"} |`);
    out.push(`| dashboards | ${r.dashboards.join(", ") || "—"} |`);
    out.push(`| alerts | ${r.alerts.join(", ") || "—"} |`, "");
  }

  out.push(`### Other resources (${others.length} change)`, "");
  if (others.length) {
    out.push("| resource | type | operation | changed |", "|---|---|---|---|");
    for (const st of others) {
      const fields = Object.keys(st.detailedDiff ?? {}).length ? Object.keys(st.detailedDiff ?? {}) : (st.diffReasons ?? []);
      out.push(`| \`${nameOf(st.urn)}\` | ${st.type ?? ""} | ${st.op} | ${cell(fields.join(", ")) || "—"} |`);
    }
    out.push("");
  } else out.push("No other changes.", "");
  const errors = (preview.diagnostics ?? []).filter((x) => x.severity === "error");
  if (errors.length) out.push("### Errors", "", ...errors.map((e) => `- ${cell(String(e.message ?? "")).slice(0, 500)}`), "");

  const text = out.join("\n");
  for (const v of secrets) {
    if (v.length >= 6 && text.includes(v)) throw new Error("the preview report would contain a secret value: not written");
  }
  return text;
}
