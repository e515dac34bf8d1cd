import { downstreamOf, lineDiff, PreviewJson, renderPreviewReport, surroundings } from "../../scripts/previewReport";
import { minioBackendUrl, parseS3Backend, stateKey } from "../../sandbox/stateBucket";

// The reviewer's report from `pulumi preview --diff --json` (the engine's real output for a job
// change is checked on the sandbox, tests/integration/engine-lifecycle.test.ts).
const script = (where: string) => ({ job: "rt-trk-dws", config: { "parallelism.default": "1" }, statements: ["CREATE TEMPORARY TABLE t (a INT) WITH ('password' = '${secret:kafka.password}')", `INSERT INTO t SELECT a FROM s ${where}`] });
const preview: PreviewJson = {
  changeSummary: { update: 2, same: 12 },
  steps: [
    {
      op: "update",
      urn: "urn:pulumi:prod::rtdw::rtdw:index:Platform$rtdw:jobs:FlinkJobs$pulumi-nodejs:dynamic:Resource::jobs-rt-trk-dws",
      type: "pulumi-nodejs:dynamic:Resource",
      oldState: { inputs: { name: "rt-trk-dws", script: script("WHERE a > 1"), secrets: "[secret]" } },
      newState: {
        inputs: {
          name: "rt-trk-dws",
          upgradeMode: "savepoint",
          script: script("WHERE a > 2"),
          secrets: "[secret]",
          plannedAction: "savepoint upgrade: stop with a savepoint, resubmit from it (changed: script (sql)); state NOT restorable (would start empty: GroupAggregate(groupBy=[dt]))",
          stateCheck: { kind: "compared", restorable: false, dropped: ["GroupAggregate(groupBy=[dt])"], incompatible: [] },
        },
      },
    },
    // As the engine prints an unchanged step: no state, the type only in the URN.
    { op: "same", urn: "urn:pulumi:prod::rtdw::rtdw:index:Platform$rtdw:jobs:FlinkJobs$pulumi-nodejs:dynamic/rtdw:FlinkSqlJob::jobs-rt-trk-ods" },
    { op: "update", urn: "urn:pulumi:prod::rtdw::kubernetes:apps/v1:StatefulSet::kafka", type: "kubernetes:apps/v1:StatefulSet", detailedDiff: { "spec.replicas": { kind: "update" } } },
    { op: "same", urn: "urn:pulumi:prod::rtdw::pulumi:pulumi:Stack::rtdw-prod", type: "pulumi:pulumi:Stack" },
  ],
};

describe("the preview report a reviewer reads", () => {
  it("per changed job: action, state verdict, the changed SQL as a diff, what it reaches downstream; the other changes in a table", () => {
    const report = renderPreviewReport("prod", preview, surroundings());
    expect(report).toContain("Changes: update 2, same 12.");
    expect(report).toContain("### Flink jobs (1 of 10 change)");
    expect(report).toContain("#### `rt-trk-dws` — update");
    expect(report).toContain("| state | **state NOT restorable**<br>would start empty: `GroupAggregate(groupBy=[dt])` |");
    expect(report).toContain("- INSERT INTO t SELECT a FROM s WHERE a > 1;");
    expect(report).toContain("+ INSERT INTO t SELECT a FROM s WHERE a > 2;");
    expect(report).toContain("| downstream tables | `starrocks:dws.dws_trk_event_daily`, `starrocks:dws.dws_trk_event_hourly`, `starrocks:dws.dws_trk_funnel_daily` |");
    expect(report).toContain("| `kafka` | kubernetes:apps/v1:StatefulSet | update | spec.replicas |");
    expect(report).not.toContain("rtdw-prod");
  });

  it("a lake table's schema change: the ALTER, who writes and reads the table, and what its readers reach", () => {
    const tableStep = {
      op: "update",
      urn: "urn:pulumi:prod::rtdw::rtdw:index:Platform$rtdw:lakehouse:LakeTables$pulumi-nodejs:dynamic/rtdw:PaimonTable::lake-dwd.orders",
      type: "pulumi-nodejs:dynamic/rtdw:PaimonTable",
      newState: { inputs: { declared: { name: "dwd.orders" }, plannedAction: "ALTER in place: add column channel STRING after status" } },
    };
    const report = renderPreviewReport("prod", { steps: [tableStep] }, surroundings());
    const readers = surroundings().lineage.filter((l) => l.reads.includes("paimon:dwd.orders")).map((l) => l.job);
    expect(readers.length).toBeGreaterThan(0);
    expect(report).toContain("### Tables, lake and DWS (1 change)");
    expect(report).toContain("#### `dwd.orders` — update");
    expect(report).toContain("| planned action | ALTER in place: add column channel STRING after status |");
    expect(report).toContain("| written by | rt-dw-dwd-transform |");
    expect(report).toContain(`| read by | ${readers.join(", ")} |`);
    expect(report).toMatch(/\| downstream tables \| .*`starrocks:dws\.dws_/);
    expect(report).toMatch(/\| alerts \| .*FlinkJobRestarting/);
    expect(report).toContain("### Other resources (0 change)");
  });

  it("a DWS table's schema change: the ALTER, the job that loads it and the dashboards that read it", () => {
    const step = {
      op: "update",
      urn: "urn:pulumi:prod::rtdw::rtdw:index:Platform$rtdw:starrocks:DwsTables$pulumi-nodejs:dynamic/rtdw:DwsTable::dws-dws-trk-event-daily",
      type: "pulumi-nodejs:dynamic/rtdw:DwsTable",
      newState: { inputs: { declared: { name: "dws.dws_trk_event_daily" }, plannedAction: "ALTER in place: add column new_users BIGINT after core_pv" } },
    };
    const report = renderPreviewReport("prod", { steps: [step] }, surroundings());
    expect(report).toContain("#### `dws.dws_trk_event_daily` — update");
    expect(report).toContain("| planned action | ALTER in place: add column new_users BIGINT after core_pv |");
    expect(report).toContain("| written by | rt-trk-dws |");
    const readers = surroundings().dashboards.filter((d) => d.text.includes("dws_trk_event_daily")).map((d) => d.title);
    expect(readers.length).toBeGreaterThan(0);
    expect(report).toContain(`| dashboards | ${[...readers].sort().join(", ")} |`);
  });

  it("a change upstream reaches the jobs, tables and dashboards after it", () => {
    const d = downstreamOf("rt-trk-ods", surroundings());
    // The monitor scores the tracking tables: it is downstream too.
    expect(d.jobs).toEqual(["rt-dw-monitor", "rt-trk-dwd", "rt-trk-dws"]);
    expect(d.tables).toEqual(expect.arrayContaining(["paimon:ods.tracking_events", "paimon:dwd.tracking_events", "starrocks:dws.dws_trk_event_hourly"]));
    expect(d.alerts).toContain("FlinkJobRestarting");
  });

  it("refuses to write a report that holds a secret value", () => {
    const leaky: PreviewJson = { steps: [{ ...preview.steps![0], newState: { inputs: { ...preview.steps![0].newState!.inputs, plannedAction: "submit hunter2-the-password" } } }] };
    expect(() => renderPreviewReport("prod", leaky, surroundings(), ["hunter2-the-password"])).toThrow("the preview report would contain a secret value: not written");
  });

  it("line diff keeps context and marks removals and additions", () => {
    expect(lineDiff("a\nb\nc\nd\ne\nf\ng", "a\nb\nc\nX\ne\nf\ng", 1)).toEqual(["  …", "  c", "- d", "+ X", "  e", "  …"]);
  });
});

describe("the state bucket", () => {
  it("reads a DIY s3 backend URL, with prefix and endpoint, and names the stack's state object", () => {
    const b = parseS3Backend("s3://rtdw-prod-pulumi-state/team?region=eu-central-1")!;
    expect(b).toEqual({ bucket: "rtdw-prod-pulumi-state", prefix: "team/", endpoint: undefined, region: "eu-central-1" });
    expect(stateKey(b, "rtdw", "prod")).toBe("team/.pulumi/stacks/rtdw/prod.json");
    expect(parseS3Backend(minioBackendUrl("rtdw-sandbox-pulumi-state", 29000))).toEqual({ bucket: "rtdw-sandbox-pulumi-state", prefix: "", endpoint: "http://127.0.0.1:29000", region: "us-east-1" });
    expect(parseS3Backend("file:///tmp/state")).toBeUndefined();
  });
});
