import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { validateAnswer } from "../../components/flink/answers";

const COMPONENTS = path.resolve(__dirname, "..", "..", "components");

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
}

/** Every explicit `any` in a TypeScript source, as file:line. */
function explicitAny(file: string, text = fs.readFileSync(file, "utf8")): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (n: ts.Node) => {
    if (n.kind === ts.SyntaxKind.AnyKeyword) found.push(`${path.relative(COMPONENTS, file)}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`);
    ts.forEachChild(n, visit);
  };
  visit(source);
  return found;
}

describe("types end to end in components/", () => {
  it("no explicit `any` (tsc runs with strict, so no implicit one either): API answers are typed where they enter", () => {
    expect(tsFiles(COMPONENTS).flatMap((f) => explicitAny(f))).toEqual([]);
  });

  it("the check can fail: an `any` in a parameter, a cast and a type argument are each found", () => {
    const f = path.join(COMPONENTS, "example.ts");
    expect(explicitAny(f, "const a = (x: any) => x as any;\nconst b = f<any>();\n// any in a comment is fine\n")).toEqual(["example.ts:1", "example.ts:1", "example.ts:2"]);
  });
});

describe("Flink's REST answers are validated where they enter", () => {
  it("an answer of the known shape passes, with its fields typed", () => {
    const r = validateAnswer("checkpoints", "GET http://jm/jobs/1/checkpoints", { counts: { completed: 3, failed: 0, in_progress: 1 }, latest: { completed: { id: 3, external_path: "s3://b/chk-3" }, savepoint: null }, history: [] });
    expect(r.counts.completed).toBe(3);
    expect(r.latest?.completed?.external_path).toBe("s3://b/chk-3");
  });

  it("a changed field fails naming the endpoint and the field", () => {
    expect(() => validateAnswer("jobsOverview", "GET http://jm/jobs/overview", { jobs: [{ jid: "1", name: "a", status: "RUNNING", "start-time": 1 }] })).toThrow(
      'GET http://jm/jobs/overview answered in a shape this client does not know (jobsOverview): jobs.0.state: Invalid input: expected string, received undefined',
    );
    expect(() => validateAnswer("resultPage", "GET http://gw/v2/sessions/s/operations/o/result/0", { resultType: "MAYBE" })).toThrow(/resultType: Invalid option/);
  });

  it("a job still being set up answers with a plan without nodes (Flink 1.20.3 after a JobManager restart): accepted", () => {
    expect(validateAnswer("jobDetails", "GET http://jm/jobs/1", { state: "RUNNING", vertices: [], plan: {} }).plan?.nodes).toBeUndefined();
  });
});
