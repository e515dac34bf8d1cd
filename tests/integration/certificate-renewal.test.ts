import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { forgetStack, pulumi, PulumiResult } from "../../sandbox/engine";

/**
 * The brokers' certificate through the real Pulumi engine (CLI, Node.js language host, the dynamic
 * provider plugin), on a stack of its own holding one ServerCertificate as the Kafka component makes
 * it: up issues it; a preview changes nothing while it is young; with the state's notAfter moved into
 * the renewal window (time passing, edited through `stack export` / `stack import`, the one stand-in
 * here) preview plans an update and up renews it: a new key and certificate signed by the same CA,
 * so the CA clients hold is unchanged. Neither key is ever in the state in plaintext.
 */
const STACK = "certificate-renewal";
const DAY = 86_400_000;

interface Outputs {
  readonly caCertificate: string;
  readonly certificate: string;
  readonly privateKey: string;
  readonly notAfter: string;
}
interface StateResource {
  urn: string;
  type: string;
  outputs?: Record<string, unknown>;
}
interface PreviewStep {
  readonly op: string;
  readonly urn: string;
}

describe("the real Pulumi engine renews the brokers' certificate by the same CA (up, preview, up, destroy)", () => {
  let project: string;
  const run = (args: string[]): Promise<PulumiResult> => pulumi(STACK, args, { cwd: project, quiet: true });
  const ok = async (args: string[]): Promise<PulumiResult> => {
    const r = await run(args);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${(r.stdout + r.stderr).slice(-4000)}`);
    return r;
  };
  const outputs = async () => JSON.parse((await ok(["stack", "output", "--json", "--show-secrets"])).stdout) as Outputs;
  // The certificate's planned operation: preview --json lists only resources that change, and counts
  // the unchanged ones in changeSummary.same (the stack and the certificate).
  const certificateStep = async (): Promise<string> => {
    const plan = JSON.parse((await ok(["preview", "--json"])).stdout) as { steps?: PreviewStep[]; changeSummary: Record<string, number> };
    const ops = (plan.steps ?? []).filter((s) => s.urn.includes("rtdw:ServerCertificate")).map((s) => s.op);
    if (ops.length > 1) throw new Error(`more than one step for the certificate: ${ops.join(", ")}`);
    if (ops.length === 1) return ops[0];
    if ((plan.changeSummary.same ?? 0) !== 2) throw new Error(`no step for the certificate, yet changeSummary is ${JSON.stringify(plan.changeSummary)}`);
    return "same";
  };
  const exported = async () => (await ok(["stack", "export"])).stdout;

  beforeAll(async () => {
    const repo = path.resolve(__dirname, "..", "..");
    project = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-certificate-"));
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: rtdw-certificate\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
    fs.writeFileSync(path.join(project, `Pulumi.${STACK}.yaml`), "config: {}\n");
    fs.mkdirSync(path.join(project, "components", "platform"), { recursive: true });
    fs.copyFileSync(path.join(repo, "components", "platform", "tls.ts"), path.join(project, "components", "platform", "tls.ts"));
    for (const f of ["package.json", "tsconfig.json"]) fs.copyFileSync(path.join(repo, f), path.join(project, f));
    fs.symlinkSync(path.join(repo, "node_modules"), path.join(project, "node_modules"));
    fs.writeFileSync(
      path.join(project, "index.ts"),
      [
        'import { ServerCertificate } from "./components/platform/tls";',
        "// As components/services/kafka.ts makes it, with the sandbox's host name.",
        'const c = new ServerCertificate("kafka-tls", { commonName: "localhost", dnsNames: ["localhost"], validityDays: 825, renewBeforeDays: 30 });',
        "export const { caCertificate, certificate, privateKey, notAfter } = c;",
        "",
      ].join("\n"),
    );
    await forgetStack(STACK, project);
  });
  afterAll(async () => {
    if (project) {
      await run(["destroy", "--yes", "--skip-preview"]).catch(() => undefined);
      await forgetStack(STACK, project).catch(() => undefined);
      fs.rmSync(project, { recursive: true, force: true });
    }
  }, 300000);

  let first: Outputs;

  it("up issues the certificate; a second preview plans nothing", async () => {
    await ok(["up", "--yes", "--skip-preview"]);
    first = await outputs();
    expect(Math.round((Date.parse(first.notAfter) - Date.now()) / DAY)).toBe(825);
    expect(new X509Certificate(first.certificate).verify(new X509Certificate(first.caCertificate).publicKey)).toBe(true);
    expect(await certificateStep()).toBe("same");
  }, 300000);

  it("in its renewal window, preview plans an update (not a replacement) and up renews it by the same CA", async () => {
    const state = JSON.parse(await exported()) as { deployment: { resources: StateResource[] } };
    const cert = state.deployment.resources.find((r) => r.type === "pulumi-nodejs:dynamic/rtdw:ServerCertificate")!;
    cert.outputs!.notAfter = new Date(Date.now() + 20 * DAY).toISOString();
    const file = path.join(project, "state.json");
    fs.writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
    await ok(["stack", "import", "--file", file]);
    fs.rmSync(file);

    expect(await certificateStep()).toBe("update");
    await ok(["up", "--yes", "--skip-preview"]);
    const renewed = await outputs();
    expect(renewed.caCertificate).toBe(first.caCertificate);
    expect(renewed.certificate).not.toBe(first.certificate);
    expect(renewed.privateKey).not.toBe(first.privateKey);
    expect(Math.round((Date.parse(renewed.notAfter) - Date.now()) / DAY)).toBe(825);
    expect(new X509Certificate(renewed.certificate).verify(new X509Certificate(first.caCertificate).publicKey)).toBe(true);
    expect(await certificateStep()).toBe("same");
  }, 600000);

  it("neither the server key nor the CA key is in the state in plaintext", async () => {
    const state = await exported();
    expect(state).not.toContain("PRIVATE KEY");
    const cert = (JSON.parse(state) as { deployment: { resources: StateResource[] } }).deployment.resources.find((r) => r.type === "pulumi-nodejs:dynamic/rtdw:ServerCertificate")!;
    for (const k of ["privateKey", "caPrivateKey"]) expect(JSON.stringify(cert.outputs![k])).toContain("4dabf18193072939515e22adb298388d");
  }, 120000);
});
