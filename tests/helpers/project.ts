import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { platformDescription, PLATFORM_FILE } from "../../sandbox";

/**
 * A copy of the project a test may edit as a user would (SQL, the job table), with a stack of its own
 * over the running sandbox: the `local` stack's config pointed at the sandbox's platform file.
 * Returns the copy's directory.
 */
export function copyProject(prefix: string, stack: string): string {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const repo = path.resolve(__dirname, "..", "..");
  for (const f of ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json"]) fs.copyFileSync(path.join(repo, f), path.join(project, f));
  for (const d of ["components", "sql", "dashboards"]) fs.cpSync(path.join(repo, d), path.join(project, d), { recursive: true });
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(project, "node_modules"));
  const local = YAML.parse(fs.readFileSync(path.join(repo, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> };
  fs.writeFileSync(path.join(project, `Pulumi.${stack}.yaml`), YAML.stringify({ config: { ...local.config, "rtdw:platformFile": PLATFORM_FILE } }));
  fs.writeFileSync(PLATFORM_FILE, JSON.stringify(platformDescription(), null, 2), { mode: 0o600 });
  return project;
}
