import { dashboardSchemaProblems } from "../helpers/grafana-schema";
import { dashboards } from "../../dashboards";

/**
 * The dashboards' JSON. Its shape is Grafana's dashboard schema as the foundation SDK generates it
 * (type-checked by tsc); here: what a provisioned dashboard needs beyond the types.
 */
describe("dashboards as code", () => {
  const all = dashboards();

  it("the five dashboards the platform needs, each with a stable uid", () => {
    expect(all.map((d) => d.uid)).toEqual(["rtdw-platform", "rtdw-flink-jobs", "rtdw-kafka-lag", "rtdw-data-quality", "rtdw-tracking"]);
    for (const d of all) {
      expect(d.uid!.length).toBeLessThanOrEqual(40);
      expect(d.tags).toContain("rtdw");
      expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    }
  });

  it("every panel queries a data source chosen by a dashboard variable, with unique refIds", () => {
    for (const d of all) {
      const variables = new Set((d.templating?.list ?? []).map((v) => v.name));
      for (const p of (d.panels ?? []).filter((x: any) => x.type !== "row") as any[]) {
        const uid = p.datasource?.uid as string;
        expect({ panel: p.title, variable: variables.has(uid.replace(/^\$\{(.*)\}$/, "$1")) }).toEqual({ panel: p.title, variable: true });
        const refIds = p.targets.map((t: any) => t.refId);
        expect(refIds.every((r: string) => /^[A-Z]$/.test(r))).toBe(true);
        expect(new Set(refIds).size).toBe(refIds.length);
      }
    }
  });

  it("panels sit inside the 24-column grid and do not overlap", () => {
    for (const d of all) {
      const boxes = (d.panels ?? []).map((p: any) => p.gridPos);
      for (const b of boxes) expect(b.x + b.w).toBeLessThanOrEqual(24);
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, b] = [boxes[i], boxes[j]];
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect({ dashboard: d.uid, i, j, overlap }).toEqual({ dashboard: d.uid, i, j, overlap: false });
        }
    }
  });

  it("cover what the issue lists: job status, uptime, restarts, checkpoints, records/s, latency, backpressure, lag, quality, freshness, SLA, tracking", () => {
    const text = JSON.stringify(all);
    for (const s of ["numRunningJobs", "job_uptime", "numRestarts", "numberOfFailedCheckpoints", "lastCheckpointDuration", "numRecordsInPerSecond", "currentEmitEventTimeLag", "backPressuredTimeMsPerSecond", "kafka_consumergroup_lag", "rtdw_quality_score", "rtdw_quality_anomaly_ratio", "SLA attainment", "dead_letter_kafka", "core_pv"]) {
      expect(text).toContain(s);
    }
  });
});

describe("dashboards against Grafana's dashboard schema (@grafana/schema of the Grafana version the stacks run)", () => {
  it("every dashboard conforms: no unknown field, no missing required field, no wrong type", () => {
    expect(dashboardSchemaProblems(dashboards())).toEqual([]);
  });

  it("the check finds a field the schema does not have and a value of the wrong type (it can fail)", () => {
    const [d] = dashboards();
    const typo = { ...d, title: "typo", refreshh: "30s" };
    const wrongType = { ...d, title: "wrong type", panels: [{ ...(d.panels as any[])[0], gridPos: { h: "tall", w: 6, x: 0, y: 0 } }] };
    const problems = dashboardSchemaProblems([typo, wrongType]);
    expect(problems.some((p) => p.startsWith('dashboard "typo"') && p.includes('"refreshh"\' does not exist'))).toBe(true);
    expect(problems.some((p) => p.startsWith('dashboard "wrong type"') && p.includes("'string' is not assignable to type 'number'"))).toBe(true);
  });
});
