import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { HttpError, requestJson, RetryPolicy } from "../platform/http";
import { TunnelConfig, withApiAccess } from "../platform/tunnel";
import { Team } from "../config/teams";
import { GrafanaDesired, GrafanaRequest, provisioningRequests, readRequests, removalRequests, withWebhooks } from "./grafana";

export interface GrafanaProvisioningInputs {
  /** Grafana's URL as the stack knows it (in-cluster on Kubernetes, 127.0.0.1 on Docker). */
  readonly url: string;
  /** How to reach cluster-internal URLs from where `pulumi up` runs (the job provider's mechanism). */
  readonly tunnel?: TunnelConfig;
  /** Grafana's admin user and password (secret). */
  readonly auth: { readonly user: string; readonly password: string };
  /** Everything to provision, in the clear (webhooks by placeholder), so a preview shows what changes. */
  readonly desired: GrafanaDesired;
  /** Each team's webhook URL (secret: they carry tokens). */
  readonly webhooks: Readonly<Partial<Record<Team, string>>>;
  /** Seconds to keep retrying while Grafana starts. */
  readonly readyTimeoutSeconds?: number;
}

export interface GrafanaProvisioningOutputs extends GrafanaProvisioningInputs {
  /** A digest of `desired`: what a preview compares. */
  readonly digest: string;
  /** uids, for `pulumi stack output` and the diff. */
  readonly dashboards: string[];
  readonly rules: string[];
}

export const digestOf = (d: GrafanaDesired) => createHash("sha256").update(JSON.stringify(d)).digest("hex");

/** Sends one request (and its fallback), naming the operation and Grafana's answer when it fails. */
export async function send(baseUrl: string, auth: GrafanaProvisioningInputs["auth"], r: GrafanaRequest, retry: RetryPolicy): Promise<unknown> {
  const headers = { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}` };
  try {
    return await requestJson(r.method, `${baseUrl.replace(/\/$/, "")}${r.path}`, r.body, { headers, retry });
  } catch (e) {
    const status = (e as HttpError).status;
    if (status !== undefined && r.fallbackOn?.includes(status)) return r.fallback ? send(baseUrl, auth, r.fallback, retry) : undefined;
    throw Object.assign(new Error(`Grafana ${r.op} (${r.method} ${r.path}) failed: ${(e as Error).message}`), { status });
  }
}

/** Applies `next` and removes what `previous` had that `next` has not. */
export async function provision(baseUrl: string, inputs: GrafanaProvisioningInputs, previous?: GrafanaDesired): Promise<void> {
  // Grafana may still be starting (a new stack): retry for up to readyTimeoutSeconds, then report plainly.
  const attempts = Math.max(3, Math.ceil((inputs.readyTimeoutSeconds ?? 300) / 8));
  const patient: RetryPolicy = { attempts, initialDelayMs: 500, maxDelayMs: 8000 };
  const quick: RetryPolicy = { attempts: 4, initialDelayMs: 250, maxDelayMs: 4000 };
  const requests = provisioningRequests(withWebhooks(inputs.desired, inputs.webhooks));
  for (const [i, r] of requests.entries()) await send(baseUrl, inputs.auth, r, i === 0 ? patient : quick);
  if (previous) for (const r of removalRequests(previous, inputs.desired)) await send(baseUrl, inputs.auth, r, quick);
}

const outputsOf = (inputs: GrafanaProvisioningInputs): GrafanaProvisioningOutputs => ({
  ...inputs,
  digest: digestOf(inputs.desired),
  dashboards: inputs.desired.dashboards.map((d) => d.uid),
  rules: inputs.desired.ruleGroup.rules.map((r) => String(r.uid)),
});

const reach = <T>(inputs: GrafanaProvisioningInputs, fn: (url: string) => Promise<T>) => withApiAccess([inputs.url], inputs.tunnel, (to) => fn(to(inputs.url)));

/**
 * What of `desired` Grafana lacks now: the folder, the rule group or its rules, contact points,
 * dashboards. `pulumi refresh` uses it: a Grafana whose database was lost or edited by hand shows a
 * change, and the next `up` provisions it again.
 */
export async function missing(baseUrl: string, inputs: GrafanaProvisioningInputs): Promise<string[]> {
  const quick: RetryPolicy = { attempts: 3, initialDelayMs: 250, maxDelayMs: 2000 };
  const d = inputs.desired;
  const reads = readRequests(d);
  const get = async (r: GrafanaRequest) => {
    try {
      return await send(baseUrl, inputs.auth, r, quick);
    } catch (e) {
      if ((e as { status?: number }).status === 404) return undefined;
      throw e;
    }
  };
  if (!(await get(reads.folder))) return [`folder ${d.folder.uid}`];
  const gone: string[] = [];
  const group = (await get(reads.ruleGroup)) as { rules?: { uid?: string }[] } | undefined;
  const have = new Set((group?.rules ?? []).map((r) => r.uid));
  for (const r of d.ruleGroup.rules) if (!have.has(String(r.uid))) gone.push(`rule ${String(r.uid)}`);
  const points = ((await get(reads.contactPoints)) ?? []) as { uid?: string }[];
  for (const c of d.contactPoints) if (!points.some((p) => p.uid === c.uid)) gone.push(`contact point ${c.uid}`);
  for (const [i, db] of d.dashboards.entries()) if (!(await get(reads.dashboards[i]))) gone.push(`dashboard ${db.uid}`);
  return gone;
}

/** The Pulumi face: create/update apply idempotent PUTs and POSTs; delete removes folder, contact points and policy. */
export const grafanaProvisioningProvider: pulumi.dynamic.ResourceProvider<GrafanaProvisioningInputs, GrafanaProvisioningOutputs> = {
  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!/^https?:\/\//.test(news.url ?? "")) failures.push({ property: "url", reason: `expected Grafana's http(s) URL, got ${JSON.stringify(news.url)}` });
    if (!news.auth?.user || !news.auth?.password) failures.push({ property: "auth", reason: "Grafana's admin user and password are required" });
    const uids = new Set<string>();
    for (const d of news.desired?.dashboards ?? []) {
      if (uids.has(d.uid)) failures.push({ property: "desired", reason: `two dashboards share the uid ${d.uid}` });
      uids.add(d.uid);
    }
    return { inputs: news, failures };
  },
  async diff(_id, olds, news) {
    const replaces = olds.url !== news.url ? ["url"] : [];
    const secretsChanged = olds.auth.password !== news.auth.password || JSON.stringify(olds.webhooks) !== JSON.stringify(news.webhooks);
    return { changes: olds.digest !== digestOf(news.desired) || secretsChanged || replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async create(inputs) {
    await reach(inputs, (url) => provision(url, inputs));
    return { id: `grafana-${inputs.desired.folder.uid}`, outs: outputsOf(inputs) };
  },
  async read(id, props) {
    const p = props as GrafanaProvisioningOutputs;
    const gone = await reach(p, (url) => missing(url, p));
    // Anything missing (everything, when the folder is) makes the digest differ from what is wanted, so the next `up` provisions it again.
    return { id, props: { ...p, digest: gone.length ? `missing: ${gone.join(", ")}` : p.digest } };
  },
  async update(_id, olds, news) {
    await reach(news, (url) => provision(url, news, olds.desired));
    return { outs: outputsOf(news) };
  },
  async delete(_id, props) {
    await reach(props, async (url) => {
      for (const r of removalRequests(props.desired)) await send(url, props.auth, r, { attempts: 4, initialDelayMs: 250, maxDelayMs: 4000 });
    });
  },
};

export type GrafanaProvisioningArgs = { readonly [K in keyof GrafanaProvisioningInputs]: pulumi.Input<GrafanaProvisioningInputs[K]> };

/**
 * Grafana's folder, alert rule group, contact points, notification policy and dashboards, registered
 * through its HTTP API (alerting provisioning and dashboard APIs). Provisioned resources are
 * read-only in Grafana's UI: the stack is where they change.
 */
export class GrafanaProvisioning extends pulumi.dynamic.Resource {
  declare readonly digest: pulumi.Output<string>;
  declare readonly dashboards: pulumi.Output<string[]>;
  declare readonly rules: pulumi.Output<string[]>;

  constructor(name: string, args: GrafanaProvisioningArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      grafanaProvisioningProvider,
      name,
      { ...args, digest: undefined, dashboards: undefined, rules: undefined },
      { ...opts, additionalSecretOutputs: ["auth", "webhooks"] },
      "rtdw",
      "GrafanaProvisioning",
    );
  }
}
