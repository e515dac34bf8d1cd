import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ACTIONLINT_BIN, buildActionlint } from "../../sandbox/install";

// The pull-request workflow (preview per stack, posted as a comment) and the release workflow
// (up dev -> test -> prod, prod behind an approval environment), checked by actionlint v1.7.12.

const WORKFLOWS = path.resolve(__dirname, "..", "..", ".github", "workflows");
const files = () => fs.readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml")).map((f) => path.join(WORKFLOWS, f));

function actionlint(paths: string[]): { code: number; out: string } {
  const r = spawnSync(ACTIONLINT_BIN, ["-no-color", "-oneline", "-shellcheck=", "-pyflakes=", ...paths], { encoding: "utf8", cwd: path.dirname(WORKFLOWS) });
  return { code: r.status ?? 1, out: r.stdout + r.stderr };
}

type Workflow = { on: Record<string, unknown>; jobs: Record<string, { needs?: string | string[]; uses?: string; with?: Record<string, unknown>; environment?: string; strategy?: { matrix?: Record<string, unknown> }; steps?: { run?: string; uses?: string }[] }> };
const load = (f: string) => YAML.parse(fs.readFileSync(path.join(WORKFLOWS, f), "utf8")) as Workflow;

describe("GitHub workflows", () => {
  beforeAll(() => buildActionlint(), 600000);

  it("actionlint finds nothing in any workflow", () => {
    expect(files().length).toBeGreaterThanOrEqual(3);
    expect(actionlint(files())).toEqual({ code: 0, out: "" });
  });

  it("actionlint fails on a broken workflow (a job that needs one that does not exist, an unknown context)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-workflows-"));
    const broken = path.join(dir, "broken.yml");
    fs.writeFileSync(broken, fs.readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8").replace("needs: test", "needs: tset").replace("stack: prod", "stack: ${{ secret.STACK }}"));
    const r = actionlint([broken]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/tset/);
    expect(r.out).toMatch(/secret/);
  });

  it("pull requests preview test and prod; merges run the README's tests, then deploy test, then prod (its own environment); dev never from CI", () => {
    const preview = load("preview.yml");
    expect(Object.keys(preview.on)).toEqual(["pull_request"]);
    expect(preview.jobs.preview.strategy?.matrix?.stack).toEqual(["test", "prod"]);
    const deploy = load("deploy.yml");
    expect(Object.keys(deploy.on)).toContain("push");
    expect(Object.keys(deploy.jobs)).toEqual(["tests", "test", "prod"]);
    expect(deploy.jobs.tests.steps!.map((s) => s.run).filter(Boolean)).toEqual(["bash .ci/run"]);
    expect(fs.readFileSync(path.join(__dirname, "..", "..", ".ci", "run"), "utf8")).toMatch(/^npm test$/m);
    expect(deploy.jobs.test.needs).toBe("tests");
    expect(deploy.jobs.prod.needs).toBe("test");
    expect(deploy.jobs.prod.with).toEqual({ stack: "prod" });
    const up = load("stack-up.yml").jobs.up;
    expect(up.environment).toBe("${{ inputs.stack }}");
    // Every plugin the stack's program uses is installed before the first pulumi command (acquisition is off).
    const runs = up.steps!.map((s) => s.run ?? "");
    const plugins = runs.findIndex((r: string) => r.includes("scripts/install-plugins.sh"));
    expect(plugins).toBeGreaterThan(-1);
    expect(plugins).toBeLessThan(runs.findIndex((r: string) => r.includes("npm run preview")));
  });

  it("no secret value in a workflow: every credential is a reference to the CI secret store", () => {
    for (const f of files()) {
      const text = fs.readFileSync(f, "utf8");
      for (const line of text.split("\n").filter((l) => /(PASSWORD|PASSPHRASE|SECRET|KUBECONFIG|WEBHOOK)[A-Z_]*:/.test(l))) {
        expect({ file: path.basename(f), line: line.trim() }).toEqual({ file: path.basename(f), line: expect.stringMatching(/\$\{\{ secrets\.[A-Z_]+ \}\}$/) });
      }
    }
  });
});
