import { compareState, describeVerdict, executionPlan, operatorKeys, PlanNode, statefulOperators } from "../../components/jobs/stateCompat";
import { checkState, FlinkSqlJobInputs, FlinkSqlJobOutputs, LifecycleDeps, updateJob, verdictSuffix } from "../../components/jobs/provider";
import { JobBackend } from "../../components/jobs/backend";
import { jobInputs } from "../helpers/jobInputs";

// Plans shaped like Flink 1.20's EXPLAIN JSON_EXECUTION_PLAN (StreamGraph JSON). The real answers
// are checked on the sandbox (tests/integration/engine-lifecycle.test.ts); these pin the comparison.
const source = (id: number): PlanNode => ({ id, type: `TableSourceScan[${id}]`, pact: "Data Source", contents: `[${id}]:TableSourceScan(table=[[rtdw, dwd, tracking_events]], fields=[dt, hr, event, distinct_id])`, parallelism: 1 });
const calc = (id: number, from: number, where: string): PlanNode => ({ id, type: `Calc[${id}]`, pact: "Operator", contents: `[${id}]:Calc(select=[dt, hr, event], where=[${where}])`, parallelism: 1, predecessors: [{ id: from, ship_strategy: "FORWARD" }] });
const agg = (id: number, from: number, groupBy: string): PlanNode => ({ id, type: `GroupAggregate[${id}]`, pact: "Operator", contents: `[${id}]:GroupAggregate(groupBy=[${groupBy}], select=[${groupBy}, COUNT(*) AS pv, COUNT(DISTINCT distinct_id) AS uv])`, parallelism: 1, predecessors: [{ id: from, ship_strategy: "HASH" }] });
const sink = (id: number, from: number): PlanNode => ({ id, type: `Sink: dws_trk_event_hourly[${id}]`, pact: "Data Sink", contents: `[${id}]:Sink(table=[default_catalog.default_database.dws_trk_event_hourly], fields=[dt, hr, event, pv, uv])`, parallelism: 1, predecessors: [{ id: from, ship_strategy: "FORWARD" }] });

const plan = (where: string, groupBy = "dt, hr, event") => [source(1), calc(2, 1, where), agg(4, 2, groupBy), sink(5, 4)];
const explain = (nodes: PlanNode[]) => `== Abstract Syntax Tree ==\nLogicalSink(...)\n\n== Physical Execution Plan ==\n${JSON.stringify({ nodes }, null, 2)}\n`;

describe("state compatibility of a SQL change, from the execution plans", () => {
  it("reads the StreamGraph JSON out of an EXPLAIN answer, and fails naming what is missing", () => {
    expect(executionPlan(explain(plan("x"))).map((n) => n.id)).toEqual([1, 2, 4, 5]);
    expect(() => executionPlan("== Optimized Execution Plan ==\nCalc(...)")).toThrow(/no JSON execution plan/);
  });

  it("node ids assigned by Flink's static counter do not matter, the graph's shape does", () => {
    const shifted = [source(11), calc(12, 11, "x"), agg(14, 12, "dt, hr, event"), sink(15, 14)];
    expect([...operatorKeys(shifted).values()]).toEqual([...operatorKeys(plan("x")).values()]);
  });

  it("finds the stateful operators and what their state holds", () => {
    expect(statefulOperators(plan("x")).map((o) => o.description)).toEqual([
      "Source(table=rtdw, dwd, tracking_events)",
      "GroupAggregate(groupBy=[dt, hr, event] aggregates=[COUNT, COUNT DISTINCT])",
      "Sink(table=default_catalog.default_database.dws_trk_event_hourly)",
    ]);
  });

  it("a changed filter keeps every operator's id and state: restorable", () => {
    const v = compareState(plan("event <> 'a'"), plan("event <> 'b'"));
    expect(v).toEqual({ restorable: true, dropped: [], incompatible: [], sinksRecreated: [] });
    expect(describeVerdict(v)).toBe("state restorable");
  });

  it("a new grouping key keeps the aggregate's id but not its state's shape: not restorable, named", () => {
    const v = compareState(plan("x"), plan("x", "dt, hr, event, is_core"));
    expect(v.restorable).toBe(false);
    expect(v.incompatible).toEqual(["GroupAggregate(groupBy=[dt, hr, event] aggregates=[COUNT, COUNT DISTINCT]) -> GroupAggregate(groupBy=[dt, hr, event, is_core] aggregates=[COUNT, COUNT DISTINCT])"]);
  });

  it("an operator chained to the source changes the source's id (its chained outputs) and every id after it: their state would be dropped", () => {
    const without = [source(1), agg(4, 1, "dt, hr, event"), sink(5, 4)];
    const v = compareState(without, plan("x"));
    expect(v.dropped).toEqual(["Source(table=rtdw, dwd, tracking_events)", "GroupAggregate(groupBy=[dt, hr, event] aggregates=[COUNT, COUNT DISTINCT])"]);
    expect(v.sinksRecreated).toEqual(["Sink(table=default_catalog.default_database.dws_trk_event_hourly)"]);
    expect(describeVerdict(v)).toMatch(/^state NOT restorable \(would start empty: Source\(table=rtdw, dwd, tracking_events\); GroupAggregate/);
  });
});

// A Paimon sink: Writer (the job's parallelism) -> Global Committer (parallelism 1), chained only at parallelism 1.
const paimonSink = (p: number): PlanNode[] => [
  { ...source(1), parallelism: p },
  { id: 2, type: "Writer : out", pact: "Operator", contents: "Writer : out", parallelism: p, predecessors: [{ id: 1, ship_strategy: "FORWARD" }] },
  { id: 3, type: "Global Committer : out", pact: "Operator", contents: "Global Committer : out", parallelism: 1, predecessors: [{ id: 2, ship_strategy: p === 1 ? "FORWARD" : "REBALANCE" }] },
];

describe("sinks re-created by a rescale (their chaining changes with the parallelism)", () => {
  it("in a savepoint upgrade: restorable, the sinks named (a stop with a savepoint completes their commits)", () => {
    const v = compareState(paimonSink(1), paimonSink(2));
    expect(v).toMatchObject({ restorable: true, dropped: [], sinksRecreated: ["Writer(table=Writer : out)", "Global Committer(table=Global Committer : out)"] });
    expect(describeVerdict(v)).toBe("state restorable (sinks re-created, their pending commits completed by the savepoint: Writer(table=Writer : out); Global Committer(table=Global Committer : out))");
  });
  it("in a last-state upgrade (restored from a checkpoint, commits may be pending): not restorable", () => {
    const { verdictFor } = require("../../components/jobs/stateCompat") as typeof import("../../components/jobs/stateCompat");
    expect(verdictFor(compareState(paimonSink(1), paimonSink(2)), "last-state")).toMatchObject({ restorable: false, dropped: ["Writer(table=Writer : out)", "Global Committer(table=Global Committer : out)"] });
  });
});

describe("an upgrade that would drop state is refused unless the job table opts in", () => {
  const base: FlinkSqlJobInputs = jobInputs({ script: { job: "rt-trk-dws", config: {}, statements: ["INSERT INTO a SELECT 1"] }, secrets: {} });

  const olds: FlinkSqlJobOutputs = { ...base, jobId: "j1", status: "RUNNING", savepoints: [] };
  const changed: FlinkSqlJobInputs = { ...base, script: { ...base.script, statements: ["INSERT INTO a SELECT 2"] } };

  /** A backend that records what was asked of it. */
  function recording() {
    const calls: string[] = [];
    const backend: JobBackend = {
      kind: "sql-gateway",
      ready: async () => undefined,
      submit: async (r) => (calls.push(`submit restore=${r.restorePath ?? "-"} allowNonRestored=${r.allowNonRestoredState}`), { jobId: "j2" }),
      state: async () => "RUNNING",
      failureCause: async () => undefined,
      jobParameters: async () => ({}),
      stopWithSavepoint: async () => (calls.push("stop-with-savepoint"), "s3://b/savepoints/rt-trk-dws/savepoint-1"),
      cancel: async () => void calls.push("cancel"),
      latestCheckpoint: async () => undefined,
      waitUntilRunning: async () => undefined,
      progress: async () => ({ state: "RUNNING", completedCheckpoints: 2, failedCheckpoints: 0, restarts: 0 }),
      findActive: async () => undefined,
      newest: async () => undefined,
    };
    return { calls, backend };
  }
  const deps = (backend: JobBackend, plans: [PlanNode[], PlanNode[]]): LifecycleDeps => ({
    backend: () => backend,
    deletePrefix: async () => undefined,
    listSavepoints: async () => [],
    explain: async (_cfg, script) => explain(script.statements[0].endsWith("1") ? plans[0] : plans[1]),
    gatePace: { pollMs: 1, metricsLagMs: 0 },
  });

  it("refused before the running job is touched, naming the operators and the opt-in", async () => {
    const { calls, backend } = recording();
    const d = deps(backend, [plan("x"), plan("x", "dt, hr, event, is_core")]);
    const stateCheck = await checkState(d, olds, changed);
    expect(verdictSuffix({ ...changed, stateCheck })).toMatch(/state NOT restorable .*REFUSED by up unless sql\/jobs.yaml sets allowNonRestoredState: true/);
    await expect(updateJob(d, olds, { ...changed, stateCheck })).rejects.toThrow(
      /rt-trk-dws: the new SQL would not restore the job's state \(state NOT restorable \(state no longer fits: GroupAggregate.*Nothing was changed: the job runs as before\. To accept that loss, set allowNonRestoredState: true/,
    );
    expect(calls).toEqual([]);
  });

  it("with the opt-in, a reshaped operator makes the new version start empty (its savepoint is still taken for rollback)", async () => {
    const { calls, backend } = recording();
    const d = deps(backend, [plan("x"), plan("x", "dt, hr, event, is_core")]);
    const news = { ...changed, allowNonRestoredState: true };
    const out = await updateJob(d, olds, { ...news, stateCheck: await checkState(d, olds, news) });
    expect(calls).toEqual(["stop-with-savepoint", "submit restore=- allowNonRestored=false"]);
    expect(out.restoredFrom).toBeUndefined();
    expect(out.savepoints).toEqual(["s3://b/savepoints/rt-trk-dws/savepoint-1"]);
  });

  it("with the opt-in, dropped operators are skipped and the rest of the state restored", async () => {
    const { calls, backend } = recording();
    const d = deps(backend, [[source(1), agg(4, 1, "dt"), sink(5, 4)], plan("x", "dt")]);
    const news = { ...changed, allowNonRestoredState: true };
    await updateJob(d, olds, { ...news, stateCheck: await checkState(d, olds, news) });
    expect(calls).toEqual(["stop-with-savepoint", "submit restore=s3://b/savepoints/rt-trk-dws/savepoint-1 allowNonRestored=true"]);
  });

  it("a restorable change restores everything, and Flink is told not to skip any state", async () => {
    const { calls, backend } = recording();
    const d = deps(backend, [plan("event <> 'a'"), plan("event <> 'b'")]);
    const stateCheck = await checkState(d, olds, changed);
    expect(verdictSuffix({ ...changed, stateCheck })).toBe("; state restorable");
    await updateJob(d, olds, { ...changed, stateCheck });
    expect(calls).toEqual(["stop-with-savepoint", "submit restore=s3://b/savepoints/rt-trk-dws/savepoint-1 allowNonRestored=false"]);
  });

  it("a rescale that re-creates only the sinks restores every other operator and lets Flink skip just the sinks' committed state", async () => {
    const { calls, backend } = recording();
    const d = deps(backend, [paimonSink(1), paimonSink(2)]);
    await updateJob(d, olds, { ...changed, stateCheck: await checkState(d, olds, changed) });
    expect(calls).toEqual(["stop-with-savepoint", "submit restore=s3://b/savepoints/rt-trk-dws/savepoint-1 allowNonRestored=true"]);
  });

  it("when the plans cannot be compared the preview says so, and Flink's own restore check decides", async () => {
    const { calls, backend } = recording();
    const d: LifecycleDeps = { ...deps(backend, [plan("x"), plan("x")]), explain: async () => Promise.reject(new Error("gateway down")) };
    const stateCheck = await checkState(d, olds, changed);
    expect(stateCheck).toEqual({ kind: "unknown", reason: "gateway down" });
    expect(verdictSuffix({ ...changed, stateCheck })).toBe("; state verdict unknown (gateway down): Flink restores only state it can map fully");
    await updateJob(d, olds, { ...changed, stateCheck });
    expect(calls).toEqual(["stop-with-savepoint", "submit restore=s3://b/savepoints/rt-trk-dws/savepoint-1 allowNonRestored=false"]);
  });
});

describe("a savepoint written by another version of the SQL", () => {
  it("Flink's refusal to map it is explained with what the user can do", () => {
    const { withRestoreAdvice } = require("../../components/jobs/provider") as typeof import("../../components/jobs/provider");
    const e = withRestoreAdvice(new Error("Cannot map checkpoint/savepoint state for operator 0cd2 to the new program"), "rt-trk-dws", "s3://b/savepoints/rt-trk-dws/savepoint-1") as Error;
    expect(e.message).toBe(
      "Cannot map checkpoint/savepoint state for operator 0cd2 to the new program. The state at s3://b/savepoints/rt-trk-dws/savepoint-1 was written by a different version of rt-trk-dws's SQL. To start without the state that no longer maps, set allowNonRestoredState: true (or upgradeMode: stateless) on its row in sql/jobs.yaml; to keep it, deploy the SQL that wrote it.",
    );
    const other = new Error("no_such_column");
    expect(withRestoreAdvice(other, "rt-trk-dws", "s3://b/x")).toBe(other);
    expect((withRestoreAdvice(other, "rt-trk-dws", "s3://b/x") as Error).message).toBe("no_such_column");
  });
});
