import * as fs from "fs";
import * as path from "path";
import { renderHostPortsTable } from "../../components/config/hostPorts";
import { SERVICES, VOLUMES } from "../../components/config/services";
import { rawConfigSchema } from "../../components/config/schema";
import { renderBackupPolicyDoc } from "../../components/config/backupPolicy";
import { renderCollectorLimitsDoc } from "../../components/config/collectorLimits";
import { renderLakehouseDoc } from "../../components/config/lakehousePolicy";
import { CONFIGURATION_DOC, OPERATIONS_DOC, README, renderJobClustersDoc, renderSizingDoc, withGenerated } from "../../scripts/docs";

const REPO = path.resolve(__dirname, "..", "..");
const documents = ["README.md", "sql/README.md", "dashboards/README.md", ...fs.readdirSync(path.join(REPO, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)].filter((f) =>
  fs.existsSync(path.join(REPO, f)),
);

/** Links of a Markdown text (of `file`) to files of the repository that do not exist, outside code blocks. */
function brokenLinks(file: string, markdown = fs.readFileSync(path.join(REPO, file), "utf8")): string[] {
  const text = markdown.replace(/```[\s\S]*?```/g, "");
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^(https?:|mailto:|#)/.test(t));
  return targets.filter((t) => !fs.existsSync(path.resolve(path.dirname(path.join(REPO, file)), t.split("#")[0])));
}

describe("documentation", () => {
  it("the README reads in minutes: under 12,000 characters, the rest in docs/ and linked from it", () => {
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    expect(readme.length).toBeLessThan(12000);
    for (const f of fs.readdirSync(path.join(REPO, "docs")).filter((x) => x.endsWith(".md"))) expect({ f, linked: readme.includes(`](docs/${f})`) }).toEqual({ f, linked: true });
  });

  it.each(documents)("every link in %s points at a file of the repository", (file) => {
    expect({ file, broken: brokenLinks(file) }).toEqual({ file, broken: [] });
  });

  it("docs/operations.md's table of the dev stack's ports is what the code publishes (npm run docs)", () => {
    const doc = fs.readFileSync(OPERATIONS_DOC, "utf8");
    expect(doc).toBe(withGenerated(doc, "dev-ports", renderHostPortsTable()));
    expect(doc).toContain("| collector | `127.0.0.1:8080` | nginx (http) |");
    expect(() => withGenerated("no block here", "dev-ports", "x")).toThrow("no <!-- generated: dev-ports -->");
  });

  it("the README's sizing tables (totals, node pools, TaskManagers) are what the code derives from the stack files (npm run docs)", () => {
    const readme = fs.readFileSync(README, "utf8");
    expect(readme).toBe(withGenerated(readme, "sizing", renderSizingDoc()));
    expect(renderSizingDoc()).toMatch(/\| test \| [\d.]+ GiB \| [\d.]+ cores \| \d+ nodes × 8 CPU \/ 32 GiB \|/);
  });

  it.each([
    ["README.md", README, "collector-limits", renderCollectorLimitsDoc, "| `maxEventsPerBatch` (1000) | the request becomes one dead-letter record |"],
    ["docs/configuration.md", CONFIGURATION_DOC, "lakehouse", renderLakehouseDoc, "| `retention.ods` | `7 d` | `14 d` | `90 d` |"],
    ["docs/configuration.md", CONFIGURATION_DOC, "backups", renderBackupPolicyDoc, "| prod | 4 | 7 | 6 | 60 |"],
    ["docs/configuration.md", CONFIGURATION_DOC, "job-clusters", renderJobClustersDoc, "| prod | rt-dw-dwd-transform | `flink-dw-dwd-transform` | 4 | 4 | 1 × 12 GiB (4 slots) | 2 × 1 GiB |"],
  ])("%s's %s table is what the code's defaults say (npm run docs)", (_, file, block, render, row) => {
    const doc = fs.readFileSync(file, "utf8");
    expect(doc).toBe(withGenerated(doc, block, render()));
    expect(doc).toContain(row);
  });

  it("every config key of the schema is in docs/configuration.md's table and in Pulumi.yaml (declared, or named as optional), and no other", () => {
    const keys = Object.keys(rawConfigSchema.shape).sort();
    const doc = fs.readFileSync(CONFIGURATION_DOC, "utf8");
    const table = doc.slice(doc.indexOf("| key | type | default | meaning |"));
    const documented = [...table.slice(0, table.indexOf("\n\n")).matchAll(/^\| `([\w.]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(keys);
    const project = fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8");
    const declared = Object.keys((require("yaml").parse(project) as { config: Record<string, unknown> }).config);
    const optional = /^# Optional keys without a static default[^:]*: (.*)\.$/m.exec(project)![1].split(", ");
    expect([...declared, ...optional].sort()).toEqual(keys);
    // The lists Pulumi.yaml's descriptions restate.
    expect(/Services: ([\w, ]+)\./.exec(project)![1].split(", ")).toEqual([...SERVICES]);
    expect(/Volumes: ([\w, ]+)\./.exec(project)![1].split(", ")).toEqual([...VOLUMES]);
  });

  it("a sizing number edited by hand in the README is caught: the regenerated text differs", () => {
    const readme = fs.readFileSync(README, "utf8");
    const edited = readme.replace(/(\| prod \| )([\d.]+)( GiB \|)/, (_, a: string, n: string, b: string) => `${a}${Number(n) + 1}${b}`);
    expect(edited).not.toBe(readme);
    expect(withGenerated(edited, "sizing", renderSizingDoc())).not.toBe(edited);
    expect(withGenerated(edited, "sizing", renderSizingDoc())).toBe(readme);
  });

  it("the link check can fail: a made-up target is reported, a real one and a web address are not", () => {
    expect(brokenLinks("docs/operations.md", "[a](no-such-file.md) [b](../README.md#quick-start) [c](https://example.com) `[d](x.md)`\n```\n[e](y.md)\n```")).toEqual(["no-such-file.md", "x.md"]);
  });
});
