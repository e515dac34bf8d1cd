import * as pulumi from "@pulumi/pulumi";

/**
 * The alert rules loaded into a Prometheus that reads its rules from files (the sandbox's): the
 * rendered rules written into its rules directory, a reload asked for, and the load checked through
 * its API, every alert by name. Refresh reads the file back: edited or removed by hand, it shows as a
 * change and the next `up` writes it again. Delete removes the file and reloads.
 */
export interface RuleFileInputs {
  readonly prometheusUrl: string;
  readonly user: string;
  readonly password: string;
  /** Absolute path of the file, inside Prometheus' rule_files glob. */
  readonly file: string;
  /** The rules as promtool checks them (observability/alerts.ts renders them). */
  readonly content: string;
  /** Every alert the file defines; each must be loaded after the reload. */
  readonly alerts: readonly string[];
}

export interface RuleFileOutputs extends RuleFileInputs {
  /** The alerts Prometheus reported loaded from this file after the last write. */
  readonly loaded: readonly string[];
}

async function call(i: RuleFileInputs, method: "GET" | "POST", path: string): Promise<{ status: number; body: string }> {
  const auth = `Basic ${Buffer.from(`${i.user}:${i.password}`).toString("base64")}`;
  let last = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const r = await fetch(`${i.prometheusUrl}${path}`, { method, headers: { authorization: auth }, signal: AbortSignal.timeout(10000) });
      return { status: r.status, body: await r.text() };
    } catch (e) {
      last = (e as Error).message;
      await new Promise((res) => setTimeout(res, 500 * 2 ** attempt));
    }
  }
  throw new Error(`Prometheus at ${i.prometheusUrl} did not answer ${method} ${path} after 5 tries: ${last}`);
}

interface RulesAnswer {
  data: { groups: { file: string; rules: { name: string; type: string }[] }[] };
}

async function reloadAndCheck(i: RuleFileInputs): Promise<string[]> {
  const r = await call(i, "POST", "/-/reload");
  if (r.status !== 200) throw new Error(`Prometheus at ${i.prometheusUrl} refused the reload (${r.status}): ${r.body.slice(0, 300)}`);
  // The reload is synchronous, but the rule manager publishes the new groups a moment later.
  const deadline = Date.now() + 30000;
  for (;;) {
    const rules = await call(i, "GET", "/api/v1/rules?type=alert");
    if (rules.status !== 200) throw new Error(`Prometheus at ${i.prometheusUrl}: GET /api/v1/rules answered ${rules.status}`);
    const answer = JSON.parse(rules.body) as RulesAnswer;
    const loaded = (answer.data?.groups ?? []).filter((g) => g.file === i.file).flatMap((g) => g.rules.map((x) => x.name));
    const missing = i.alerts.filter((a) => !loaded.includes(a));
    if (!missing.length) return loaded;
    if (Date.now() > deadline) throw new Error(`${i.file}: Prometheus did not load ${missing.join(", ")} (its log says why: a rule it cannot parse)`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

async function write(i: RuleFileInputs): Promise<RuleFileOutputs> {
  const fs = require("fs") as typeof import("fs");
  const path = require("path") as typeof import("path");
  fs.mkdirSync(path.dirname(i.file), { recursive: true });
  // Written aside and renamed, so Prometheus never reads half a file.
  fs.writeFileSync(`${i.file}.tmp`, i.content, { mode: 0o644 });
  fs.renameSync(`${i.file}.tmp`, i.file);
  return { ...i, loaded: await reloadAndCheck(i) };
}

export const ruleFileProvider: pulumi.dynamic.ResourceProvider<RuleFileInputs, RuleFileOutputs> = {
  async check(_olds, news) {
    const failures = [];
    if (!(require("path") as typeof import("path")).isAbsolute(news.file ?? "")) failures.push({ property: "file", reason: `"${news.file}" is not an absolute path` });
    if (!news.file?.endsWith(".yml")) failures.push({ property: "file", reason: "must end in .yml (Prometheus' rule_files glob)" });
    return { inputs: news, failures };
  },
  async diff(_id, olds, news) {
    const replaces = olds.file !== news.file ? ["file"] : [];
    const changes = replaces.length > 0 || olds.content !== news.content || olds.prometheusUrl !== news.prometheusUrl || olds.user !== news.user || JSON.stringify(olds.alerts) !== JSON.stringify(news.alerts);
    return { changes, replaces, deleteBeforeReplace: false };
  },
  async create(inputs) {
    return { id: inputs.file, outs: await write(inputs) };
  },
  async read(id, props) {
    const fs = require("fs") as typeof import("fs");
    const p = props as RuleFileOutputs;
    // Gone: the engine drops it from the state and the next `up` creates it again.
    if (!fs.existsSync(p.file)) return {};
    return { id, props: { ...p, content: fs.readFileSync(p.file, "utf8") } };
  },
  async update(_id, _olds, news) {
    return { outs: await write(news) };
  },
  async delete(_id, props) {
    (require("fs") as typeof import("fs")).rmSync(props.file, { force: true });
    const r = await call(props, "POST", "/-/reload");
    if (r.status !== 200) throw new Error(`Prometheus at ${props.prometheusUrl} refused the reload (${r.status}) after ${props.file} was removed`);
  },
};

export type RuleFileArgs = { readonly [K in keyof RuleFileInputs]: pulumi.Input<RuleFileInputs[K]> };

export class PrometheusRuleFile extends pulumi.dynamic.Resource {
  declare readonly loaded: pulumi.Output<string[]>;

  constructor(name: string, args: RuleFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(ruleFileProvider, name, { ...args, loaded: undefined }, { ...opts, additionalSecretOutputs: ["password"] }, "rtdw", "PrometheusRuleFile");
  }
}
