import { spawn, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { generatePassword, loadOrCreateSecrets, writePrivate } from "./credentials";
import { CACHE, CONF, ensureDir, HOME, ports } from "./paths";
import { run } from "./process";
import { minioBackendUrl, parseS3Backend, removeStackLocks, S3Backend } from "./stateBucket";
import { MINIO_ROOT_USER, STATE_BUCKET } from "./services/types";

/**
 * The Pulumi engine on a machine without get.pulumi.com: the CLI and the Node.js language host are
 * built from the Go module proxy (tools/pulumi-cli, tools/pulumi-language-nodejs, each pinned by its
 * go.sum) into the sandbox cache, keyed by version; the dynamic-provider plugin ships in the
 * @pulumi/pulumi npm package. A `pulumi` already on PATH (a user's machine) is used as it is.
 *
 * The local stack's state lives in the sandbox's MinIO, in a versioned bucket (a DIY backend, as the
 * stacks keep theirs: see stateBucket.ts), its secrets encrypted with a passphrase generated once
 * (0600). Nothing reaches outside: no update checks, no plugin downloads.
 * Where PULUMI_BACKEND_URL is set (CI, an operator's shell: the stacks' state bucket), that backend
 * and the caller's passphrase are used as they are, with the committed Pulumi.<stack>.yaml.
 */

const REPO = path.resolve(__dirname, "..");
export const PULUMI_VERSION = "v3.274.1";
/** The newest sdk/v3 the module proxy serves that still carries the Node.js language host as a package. */
export const LANGUAGE_HOST_SDK = "v3.68.0";
const ENGINE_DIR = path.join(CACHE, `pulumi-${PULUMI_VERSION}-nodejs-${LANGUAGE_HOST_SDK}`);
const BUILT_BIN = path.join(ENGINE_DIR, "bin");
export const PULUMI_DIR = path.join(HOME, "pulumi");
const PASSPHRASE_FILE = path.join(CONF, "pulumi-passphrase");
/** Per stack, the committed Pulumi.<stack>.yaml plus this machine's encryption salt (see stackConfigFile). */
const STACK_FILES = path.join(PULUMI_DIR, "stacks");

function log(msg: string) {
  process.stderr.write(`[engine] ${msg}\n`);
}

/** A `pulumi` on PATH that is not ours: a user's installation, used as it is. */
function ambientPulumi(): string | undefined {
  const r = spawnSync("sh", ["-c", "command -v pulumi"], { encoding: "utf8", env: { ...process.env, PATH: (process.env.PATH ?? "").split(":").filter((d) => d !== BUILT_BIN).join(":") } });
  const found = r.status === 0 ? r.stdout.trim() : "";
  return found || undefined;
}

function goBuild(dir: string, pkg: string, out: string, ldflags: string) {
  const stamp = `${out}.built-from`;
  const fingerprint = createHash("sha256").update(["go.mod", "go.sum"].map((f) => fs.readFileSync(path.join(dir, f), "utf8")).join("\0") + ldflags).digest("hex");
  if (fs.existsSync(out) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === fingerprint) return;
  const t0 = Date.now();
  log(`go build ${pkg} (a cold build takes up to 20 minutes on 2 cores; cached afterwards) ...`);
  ensureDir(path.dirname(out));
  run("go", ["build", "-trimpath", "-mod=readonly", "-ldflags", ldflags, "-o", out, pkg], { cwd: dir });
  fs.writeFileSync(stamp, fingerprint);
  log(`built ${path.basename(out)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/**
 * The pulumi-kubernetes provider the SDK (@pulumi/kubernetes in package.json) asks the engine for, built
 * from the Go module proxy, which serves one commit of the provider module (2026-01-15; no tagged
 * version): its release step writes the embedded schema (the module's schema.json, stamped with the
 * version) and drops a replace of its SDK by a local path. Put on PATH as an ambient plugin, like the
 * dynamic-provider plugin. The deploy workflows install the released plugin instead.
 */
export const KUBERNETES_PROVIDER = { module: "github.com/pulumi/pulumi-kubernetes/provider/v4", version: "v4.0.0-20260115033456-f47bc2d6f199" } as const;

export function kubernetesPluginVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", "@pulumi", "kubernetes", "package.json"), "utf8")) as { pulumi: { version: string } }).pulumi.version;
}

function installKubernetesProvider(): void {
  const version = kubernetesPluginVersion();
  const out = path.join(BUILT_BIN, "pulumi-resource-kubernetes");
  const stamp = `${out}.built-from`;
  const fingerprint = `${KUBERNETES_PROVIDER.module}@${KUBERNETES_PROVIDER.version} as ${version}`;
  if (fs.existsSync(out) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === fingerprint) return;
  const t0 = Date.now();
  log(`go build of the pulumi-kubernetes provider ${version} (${KUBERNETES_PROVIDER.version}; a cold build takes about 20 minutes on 2 cores; cached afterwards) ...`);
  const downloaded = JSON.parse(run("go", ["mod", "download", "-json", `${KUBERNETES_PROVIDER.module}@${KUBERNETES_PROVIDER.version}`], { cwd: REPO })) as { Dir: string };
  const src = path.join(CACHE, "pulumi-kubernetes-src");
  fs.rmSync(src, { recursive: true, force: true });
  fs.cpSync(downloaded.Dir, src, { recursive: true });
  run("chmod", ["-R", "u+w", src]);
  const cmd = path.join(src, "cmd", "pulumi-resource-kubernetes");
  const schema = JSON.parse(fs.readFileSync(path.join(cmd, "schema.json"), "utf8")) as Record<string, unknown>;
  fs.writeFileSync(path.join(cmd, "schema-embed.json"), JSON.stringify({ ...schema, version }));
  fs.writeFileSync(path.join(cmd, "terraform-mapping-embed.json"), JSON.stringify(JSON.parse(fs.readFileSync(path.join(cmd, "terraform-mapping.json"), "utf8"))));
  const gomod = path.join(src, "go.mod");
  fs.writeFileSync(gomod, fs.readFileSync(gomod, "utf8").replace(/^replace github\.com\/pulumi\/pulumi-kubernetes\/sdk\/v4 => \.\.\/sdk\n/m, ""));
  ensureDir(BUILT_BIN);
  // -mod=mod: the SDK, no longer replaced, is resolved at the version go.mod requires (checked against the checksum database).
  run("go", ["build", "-trimpath", "-mod=mod", "-ldflags", `-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${version}`, "-o", out, "./cmd/pulumi-resource-kubernetes"], { cwd: src });
  fs.rmSync(src, { recursive: true, force: true });
  fs.writeFileSync(stamp, fingerprint);
  log(`built pulumi-resource-kubernetes in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/** Builds what is missing; returns the folder to put first on PATH (empty when a user's pulumi is used). */
export function installEngine(): string {
  if (ambientPulumi()) return "";
  goBuild(
    path.join(REPO, "tools", "pulumi-cli"),
    "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
    path.join(BUILT_BIN, "pulumi"),
    `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${PULUMI_VERSION}`,
  );
  goBuild(path.join(REPO, "tools", "pulumi-language-nodejs"), "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs", path.join(BUILT_BIN, "pulumi-language-nodejs"), "-s -w");
  installKubernetesProvider();
  // The dynamic-provider plugin is a script in the npm package; the CLI finds plugins on PATH.
  const plugin = path.join(BUILT_BIN, "pulumi-resource-pulumi-nodejs");
  const target = path.join(REPO, "node_modules", "@pulumi", "pulumi", "pulumi-resource-pulumi-nodejs");
  if (!fs.existsSync(target)) throw new Error(`${target} is missing: run npm ci first`);
  if (!fs.existsSync(plugin) || fs.readlinkSync(plugin) !== target) {
    fs.rmSync(plugin, { force: true });
    fs.symlinkSync(target, plugin);
  }
  return BUILT_BIN;
}

function passphraseFile(): string {
  if (!fs.existsSync(PASSPHRASE_FILE)) writePrivate(PASSPHRASE_FILE, generatePassword(40));
  return PASSPHRASE_FILE;
}

/** The caller chose a backend (PULUMI_BACKEND_URL): theirs, with their passphrase and stack files. */
export function externalBackend(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.PULUMI_BACKEND_URL;
}

/** The object-store backend pulumi commands use here, with its credentials; undefined when it is not s3://. */
export function stateBackend(env: NodeJS.ProcessEnv = process.env): { s3: S3Backend; accessKey: string; secretKey: string } | undefined {
  if (externalBackend(env)) {
    const s3 = parseS3Backend(env.PULUMI_BACKEND_URL ?? "");
    return s3 ? { s3, accessKey: env.AWS_ACCESS_KEY_ID ?? "", secretKey: env.AWS_SECRET_ACCESS_KEY ?? "" } : undefined;
  }
  return { s3: parseS3Backend(minioBackendUrl(STATE_BUCKET, ports().minio))!, accessKey: MINIO_ROOT_USER, secretKey: loadOrCreateSecrets().minioRoot };
}

/** The environment every pulumi command of the sandbox runs with. */
export function engineEnv(): NodeJS.ProcessEnv {
  const bin = installEngine();
  const own = externalBackend()
    ? {}
    : {
        PULUMI_HOME: ensureDir(path.join(PULUMI_DIR, "home")),
        // The sandbox's state bucket (versioned, in its MinIO; created with the other buckets).
        PULUMI_BACKEND_URL: minioBackendUrl(STATE_BUCKET, ports().minio),
        AWS_ACCESS_KEY_ID: MINIO_ROOT_USER,
        AWS_SECRET_ACCESS_KEY: loadOrCreateSecrets().minioRoot,
        AWS_REGION: "us-east-1",
        PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile(),
      };
  return {
    ...process.env,
    PATH: bin ? `${bin}:${process.env.PATH}` : process.env.PATH,
    ...own,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    // MinIO's answers carry no checksum the AWS SDK validates; it would warn on every request.
    AWS_RESPONSE_CHECKSUM_VALIDATION: "when_required",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    // `npm test` type-checks the program with tsc; the engine only needs it transpiled.
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    // The dynamic providers' plugin runs this Node (>= 22, scripts/env.sh), not an older one on PATH.
    PULUMI_NODEJS_PATH: process.execPath,
  };
}

/**
 * The committed Pulumi.<stack>.yaml holds the stack's settings; the passphrase's salt is this
 * machine's own, so it lives beside the state and the two are merged into the file the CLI is given
 * (--config-file). The working tree stays as committed.
 */
function stackConfigFile(stack: string, env: NodeJS.ProcessEnv, projectDir: string): string {
  ensureDir(STACK_FILES);
  const file = path.join(STACK_FILES, `Pulumi.${stack}.yaml`);
  const committed = (YAML.parse(fs.readFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) ?? {}) as Record<string, unknown>;
  const current = fs.existsSync(file) ? ((YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>) : {};
  // The stack may be gone from the backend (a new state bucket, a deleted state): then it is initialised anew.
  const tmp = fs.mkdtempSync(path.join(PULUMI_DIR, "init-"));
  fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(tmp, "Pulumi.yaml"));
  const exists = spawnSync("pulumi", ["stack", "ls", "--json"], { cwd: tmp, env, encoding: "utf8" });
  if (exists.status !== 0) throw new Error(`pulumi stack ls failed (is the state bucket reachable? the sandbox must be up): ${exists.stderr || exists.stdout}`);
  const known = (JSON.parse(exists.stdout) as { name: string }[]).some((s) => s.name === stack);
  if (current.encryptionsalt === undefined || !known) {
    // `stack init` writes the salt into Pulumi.<stack>.yaml of its working folder: give it one of ours.
    const r = spawnSync("pulumi", known ? ["stack", "change-secrets-provider", "passphrase", "--stack", stack] : ["stack", "init", stack, "--secrets-provider", "passphrase", "--no-select"], { cwd: tmp, env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`pulumi stack init ${stack} failed: ${r.stderr || r.stdout}`);
    const made = YAML.parse(fs.readFileSync(path.join(tmp, `Pulumi.${stack}.yaml`), "utf8")) as Record<string, unknown>;
    current.encryptionsalt = made.encryptionsalt;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  // Keys set on this machine that the committed file does not have (a secret set with `config set
  // --secret`, a change under test) stay; the committed file wins for the keys it has.
  const committedConfig = (committed.config ?? {}) as Record<string, unknown>;
  const machineOnly = Object.fromEntries(Object.entries((current.config ?? {}) as Record<string, unknown>).filter(([k]) => !(k in committedConfig)));
  const config = { ...machineOnly, ...committedConfig };
  writePrivate(file, YAML.stringify({ ...committed, ...(Object.keys(config).length ? { config } : {}), encryptionsalt: current.encryptionsalt }));
  return file;
}

const CONFIG_FILE_COMMANDS = new Set(["up", "preview", "refresh", "destroy", "import", "config"]);

export interface PulumiResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/**
 * Runs `pulumi <args>` on a stack of this project with the sandbox's engine environment; its output
 * streams through this process's stdout and stderr unless `quiet`. Never throws on a non-zero exit: callers check code.
 */
export function pulumi(stack: string, args: readonly string[], o: { quiet?: boolean; cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<PulumiResult> {
  const env = { ...engineEnv(), ...o.env };
  const cwd = o.cwd ?? REPO;
  const merged = CONFIG_FILE_COMMANDS.has(args[0]) && !externalBackend({ ...process.env, ...o.env });
  const extra = merged ? ["--stack", stack, "--config-file", stackConfigFile(stack, env, cwd)] : ["--stack", stack];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", [...args, ...extra, "--non-interactive"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
      if (!o.quiet) process.stdout.write(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
      if (!o.quiet) process.stderr.write(d);
    });
    // Past the deadline the command is interrupted (SIGINT: the engine records what it did), then killed.
    let timedOut = false;
    const timer = o.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGINT");
          setTimeout(() => child.kill("SIGKILL"), 30_000).unref();
        }, o.timeoutMs)
      : undefined;
    child.on("error", reject);
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      if (timedOut) stderr += `\n[engine] pulumi ${args[0]} interrupted after ${(o.timeoutMs! / 1000).toFixed(0)} s\n`;
      resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

/**
 * Removes a stack's state and this machine's config file for it, without touching what it deployed
 * (`pulumi stack rm --force`): for a throwaway stack left behind by an interrupted run.
 */
export async function forgetStack(stack: string, cwd = REPO): Promise<void> {
  const backend = stateBackend();
  if (backend && !externalBackend()) {
    const project = (YAML.parse(fs.readFileSync(path.join(cwd, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    await removeStackLocks(backend.s3, project, stack, backend.accessKey, backend.secretKey);
  }
  await pulumi(stack, ["stack", "rm", "--force", "--yes", "--preserve-config"], { quiet: true, cwd });
  fs.rmSync(path.join(STACK_FILES, `Pulumi.${stack}.yaml`), { force: true });
}
