import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

/** One resource the program registered, as the mock engine saw it. */
export interface Registered {
  type: string;
  name: string;
  /** Inputs with Pulumi's secret wrappers removed. */
  inputs: any;
  /** Dotted paths of the inputs that arrived as Pulumi secrets. */
  secretPaths: string[];
}

/** The name the mocks give an object the program leaves unnamed: Pulumi's auto-name shape, one suffix per stack. */
export function autoName(stack: string, resourceName: string): string {
  return `${resourceName}-${createHash("sha256").update(stack).digest("hex").slice(0, 7)}`;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Removes secret wrappers from mock inputs, remembering where they were. */
function unwrap(v: any, path: string, secrets: string[]): any {
  if (Array.isArray(v)) return v.map((x, i) => unwrap(x, `${path}[${i}]`, secrets));
  if (v && typeof v === "object") {
    if (v[SECRET_SIG] === SECRET_VALUE) {
      secrets.push(path);
      return unwrap(v.value, path, secrets);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x, path ? `${path}.${k}` : k, secrets)]));
  }
  return v;
}

/** The tests' GeoIP City database, written once per process. */
let geoipDatabase: string | undefined;
export function testGeoipDatabase(): string {
  geoipDatabase ??= (require("../../sandbox/install") as typeof import("../../sandbox/install")).buildGeoipTestDatabase();
  return geoipDatabase;
}

/**
 * Runs the program for one stack under Pulumi's mock engine and records every resource. Outputs a
 * real engine would compute (ids, auto-names) are filled the way the providers fill them.
 */
export async function runStack(stack: string, configIn: Record<string, string>, secretKeysIn: string[] = []) {
  const registered: Registered[] = [];
  // Every stack needs the business database's password; tests supply one unless they test its absence.
  const config = {
    sourcePassword: "source-password-for-tests-0001",
    ...(stack === "dev" ? {} : { source: '{"host":"mysql.shop.svc","database":"shop","user":"rtdw_cdc"}' }),
    ...(stack === "prod" ? { alertWebhooks: JSON.stringify(Object.fromEntries(["ops", "business", "data", "infra"].map((t) => [t, `https://hooks.example.com/${t}-token-0001`]))) } : {}),
    // Prod requires a GeoIP database: the tests' own (tests/geoip-fixture).
    ...(stack === "prod" ? { collector: JSON.stringify({ geoip: { path: testGeoipDatabase() } }) } : {}),
    ...configIn,
  };
  const secretKeys = [...secretKeysIn, ...(["sourcePassword", "alertWebhooks"] as const).filter((k) => k in config && !(k in configIn))];
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`rtdw:${k}`, v])),
    secretKeys.map((k) => `rtdw:${k}`),
  );
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const secretPaths: string[] = [];
        const inputs = unwrap(args.inputs, "", secretPaths);
        registered.push({ type: args.type, name: args.name, inputs, secretPaths });
        const state: any = { ...args.inputs };
        if (args.type.startsWith("kubernetes:") && args.inputs.metadata) {
          state.metadata = { ...args.inputs.metadata, name: args.inputs.metadata.name ?? autoName(stack, args.name) };
        }
        if (args.type === "docker:index/container:Container") state.hostname = args.inputs.hostname ?? args.inputs.name;
        if (args.type === "random:index/randomPassword:RandomPassword") state.result = mockPassword(args.name);
        if (args.type === "pulumi-nodejs:dynamic/rtdw:ServerCertificate") Object.assign(state, MOCK_CERTIFICATE);
        if (args.type === "aws:s3/bucket:Bucket") state.arn = `arn:aws:s3:::${args.inputs.bucket}`;
        if (args.type === "docker:index/image:Image") {
          state.repoDigest = `${String(args.inputs.imageName).split(":")[0]}@sha256:${"0".repeat(64)}`;
        }
        if (args.type === "aws:iam/accessKey:AccessKey") state.secret = `aws-secret-${args.name}`;
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    "rtdw",
    stack,
    false,
  );
  let mod: typeof import("../../components/stack") | undefined;
  let cfgMod: typeof import("../../components/config") | undefined;
  jestIsolate(() => {
    mod = require("../../components/stack");
    cfgMod = require("../../components/config");
  });
  const cfg = cfgMod!.loadConfig();
  const platform = new mod!.Platform("rtdw", cfg);
  const endpoints = await value(platform.endpoints);
  const credentials = await value(platform.credentials);
  const credentialsSecret = await pulumi.isSecret(platform.credentials);
  // Let every pending registration settle before the test inspects them.
  await new Promise((r) => setImmediate(r));
  return { cfg, platform, registered, endpoints, credentials, credentialsSecret };
}

function jestIsolate(fn: () => void) {
  const j = (globalThis as any).jest;
  if (j?.isolateModules) j.isolateModules(fn);
  else fn();
}

/** Resolves an Output (or plain value) in a test. */
export function value<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(o).apply((v) => { resolve(v as T); return v; }));
}

/** What the mocks give a RandomPassword (letters and digits, as `special: false` makes them). */
export function mockPassword(name: string): string {
  return `generated${createHash("sha256").update(name).digest("hex").slice(0, 24)}`;
}

/** What the mocks give a ServerCertificate: PEM-shaped placeholders (no key is generated under mocks). */
export const MOCK_CERTIFICATE = {
  caCertificate: "-----BEGIN CERTIFICATE-----\nmock-ca\n-----END CERTIFICATE-----\n",
  certificate: "-----BEGIN CERTIFICATE-----\nmock-server\n-----END CERTIFICATE-----\n",
  privateKey: "-----BEGIN PRIVATE KEY-----\nmock-key\n-----END PRIVATE KEY-----\n",
  notAfter: "2029-01-01T00:00:00.000Z",
};

export function ofType(all: Registered[], type: string) {
  return all.filter((r) => r.type === type);
}
