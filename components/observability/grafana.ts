import { Team, TEAMS } from "../config/teams";
import { AlertDef, ALERTS, runbookOf } from "./alerts";

/**
 * What the stack provisions in Grafana through its HTTP API, as plain data: a folder, one rule group
 * rendered from the alerts written once in alerts.ts (stable uids), a webhook contact point per team,
 * the notification policy that routes by the team label (as Alertmanager does), and the dashboards.
 * `provisioningRequests` turns it into the exact requests; the contract test checks each one against
 * Grafana's published API (grafana-openapi-client-go, generated from Grafana's OpenAPI spec).
 */

export const GRAFANA_FOLDER_UID = "rtdw";
export const GRAFANA_RULE_GROUP = "rtdw";
export const PROMETHEUS_DATASOURCE_UID = "prometheus";
/** Grafana's own contact point, present in every org: where alerts of a team without a webhook go. */
export const GRAFANA_DEFAULT_CONTACT_POINT = "grafana-default-email";

export interface GrafanaDesired {
  readonly folder: { readonly uid: string; readonly title: string };
  readonly ruleGroup: GrafanaRuleGroup;
  readonly contactPoints: readonly GrafanaContactPoint[];
  readonly policy: GrafanaRoute;
  /** Classic dashboard JSON (each with a uid). */
  readonly dashboards: readonly { readonly uid: string; readonly [k: string]: unknown }[];
}

export interface GrafanaRuleGroup {
  readonly title: string;
  readonly folderUid: string;
  /** Evaluation interval, seconds. */
  readonly interval: number;
  readonly rules: readonly Record<string, unknown>[];
}

export interface GrafanaContactPoint {
  readonly uid: string;
  readonly name: string;
  readonly type: "webhook";
  readonly settings: { readonly url: string; readonly httpMethod: "POST" };
  readonly disableResolveMessage: boolean;
}

export interface GrafanaRoute {
  readonly receiver?: string;
  readonly group_by?: readonly string[];
  readonly object_matchers?: readonly (readonly [string, "=", string])[];
  readonly group_wait?: string;
  readonly group_interval?: string;
  readonly repeat_interval?: string;
  readonly routes?: readonly GrafanaRoute[];
}

/** A stable uid (at most 40 characters) for an alert: the same rule across runs, never a duplicate. */
export function grafanaRuleUid(name: string): string {
  const uid = `rtdw-${name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase().replace(/[^a-z0-9-]+/g, "-")}`;
  if (uid.length > 40) throw new Error(`alert ${name}: its Grafana uid "${uid}" is longer than 40 characters; shorten the name`);
  return uid;
}

/** Prometheus' `{{ $value }}` is Grafana's `{{ $values.B.Value }}` (B: the reduced query). */
const grafanaTemplate = (s: string) => s.replace(/\{\{\s*\$value\s*\}\}/g, "{{ $values.B.Value }}");

/**
 * One Grafana-managed rule per alert: A runs the alert's PromQL (which keeps only the series that
 * breach), B takes each series' last value, C is true for every series B has: the same condition as
 * the Prometheus rule, over the same data. No data means healthy, as in Prometheus.
 */
export function grafanaRule(a: AlertDef, folderUid: string, paused: boolean): Record<string, unknown> {
  const expr = { type: "__expr__", uid: "__expr__" };
  return {
    uid: grafanaRuleUid(a.name),
    orgID: 1,
    folderUID: folderUid,
    ruleGroup: GRAFANA_RULE_GROUP,
    title: a.name,
    condition: "C",
    data: [
      { refId: "A", relativeTimeRange: { from: 600, to: 0 }, datasourceUid: PROMETHEUS_DATASOURCE_UID, model: { refId: "A", expr: a.expr, instant: true, range: false, intervalMs: 15000, maxDataPoints: 43200 } },
      { refId: "B", relativeTimeRange: { from: 0, to: 0 }, datasourceUid: "__expr__", model: { refId: "B", type: "reduce", expression: "A", reducer: "last", settings: { mode: "dropNN" }, datasource: expr } },
      { refId: "C", relativeTimeRange: { from: 0, to: 0 }, datasourceUid: "__expr__", model: { refId: "C", type: "math", expression: "is_number($B)", datasource: expr } },
    ],
    noDataState: "OK",
    execErrState: "Error",
    for: a.for,
    labels: { team: a.team, severity: a.severity },
    annotations: { summary: grafanaTemplate(a.summary), description: a.action, runbook_url: runbookOf(a) },
    isPaused: paused,
  };
}

/**
 * Everything the stack provisions in Grafana. `evaluate` says whether Grafana's rules notify (when
 * Grafana is the alert evaluator) or are provisioned paused, so a team is never paged twice for one
 * alert by Prometheus' Alertmanager and by Grafana.
 */
export function grafanaDesired(o: {
  stack: string;
  /** The teams that have a webhook; their URLs stay out of this plain data (see withWebhooks). */
  teamsWithWebhooks: readonly Team[];
  dashboards: readonly { readonly uid?: string; readonly [k: string]: unknown }[];
  evaluate: boolean;
  alerts?: readonly AlertDef[];
}): GrafanaDesired {
  const folder = { uid: GRAFANA_FOLDER_UID, title: `Real-time data warehouse (${o.stack})` };
  const hooked = new Set(o.teamsWithWebhooks);
  const contactPoints: GrafanaContactPoint[] = TEAMS.filter((t) => hooked.has(t)).map((t) => ({
    uid: `rtdw-team-${t}`,
    name: `team-${t}`,
    type: "webhook",
    settings: { url: webhookPlaceholder(t), httpMethod: "POST" },
    disableResolveMessage: false,
  }));
  const receiver = (t: Team) => (hooked.has(t) ? `team-${t}` : GRAFANA_DEFAULT_CONTACT_POINT);
  const policy: GrafanaRoute = {
    receiver: receiver("ops"),
    group_by: ["grafana_folder", "alertname", "job_name", "table_name"],
    group_wait: "30s",
    group_interval: "5m",
    repeat_interval: "4h",
    routes: [
      // As in Alertmanager: the ops team's critical alerts (a job down) without a grouping delay.
      { receiver: receiver("ops"), object_matchers: [["team", "=", "ops"], ["severity", "=", "critical"]], group_wait: "0s", repeat_interval: "1h" },
      ...TEAMS.map((t): GrafanaRoute => ({ receiver: receiver(t), object_matchers: [["team", "=", t]] })),
    ],
  };
  const dashboards = o.dashboards.map((d) => {
    if (!d.uid) throw new Error(`a dashboard has no uid (title: ${String(d.title)})`);
    return d as { uid: string };
  });
  return {
    folder,
    ruleGroup: { title: GRAFANA_RULE_GROUP, folderUid: folder.uid, interval: 60, rules: (o.alerts ?? ALERTS).map((a) => grafanaRule(a, folder.uid, !o.evaluate)) },
    contactPoints,
    policy,
    dashboards,
  };
}

/**
 * Webhook URLs carry tokens: the desired state names them by placeholder, so it can be stored in the
 * clear and shown by `pulumi preview --diff` (rules, dashboards, policy); the URLs are a separate secret
 * input, put in only when the requests are sent.
 */
export const webhookPlaceholder = (t: Team) => `\${webhook:${t}}`;

export function withWebhooks(desired: GrafanaDesired, webhooks: Readonly<Partial<Record<Team, string>>>): GrafanaDesired {
  return {
    ...desired,
    contactPoints: desired.contactPoints.map((c) => {
      const team = /^\$\{webhook:(\w+)\}$/.exec(c.settings.url)?.[1] as Team | undefined;
      if (!team) return c;
      const url = webhooks[team];
      if (!url) throw new Error(`contact point ${c.name} needs the ${team} team's webhook URL, which rtdw:alertWebhooks does not have`);
      return { ...c, settings: { ...c.settings, url } };
    }),
  };
}

/** One call to Grafana's HTTP API. `fallback` is tried when the first answers with one of `fallbackOn`. */
export interface GrafanaRequest {
  readonly op: string;
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly path: string;
  readonly body?: unknown;
  readonly fallbackOn?: readonly number[];
  readonly fallback?: GrafanaRequest;
}

const enc = encodeURIComponent;

/** The requests that make Grafana hold `desired`, in order: the folder before what lives in it, contact points before the policy naming them. */
export function provisioningRequests(desired: GrafanaDesired): GrafanaRequest[] {
  const f = desired.folder;
  return [
    {
      op: "createFolder",
      method: "POST",
      path: "/api/folders",
      body: { uid: f.uid, title: f.title },
      fallbackOn: [409, 412],
      fallback: { op: "updateFolder", method: "PUT", path: `/api/folders/${enc(f.uid)}`, body: { title: f.title, overwrite: true } },
    },
    ...desired.contactPoints.map(
      (c): GrafanaRequest => ({
        op: "putContactPoint",
        method: "PUT",
        path: `/api/v1/provisioning/contact-points/${enc(c.uid)}`,
        body: c,
        fallbackOn: [404, 500],
        fallback: { op: "postContactPoint", method: "POST", path: "/api/v1/provisioning/contact-points", body: c },
      }),
    ),
    { op: "putPolicyTree", method: "PUT", path: "/api/v1/provisioning/policies", body: desired.policy },
    { op: "putRuleGroup", method: "PUT", path: `/api/v1/provisioning/folder/${enc(desired.ruleGroup.folderUid)}/rule-groups/${enc(desired.ruleGroup.title)}`, body: desired.ruleGroup },
    ...desired.dashboards.map(
      (d): GrafanaRequest => ({ op: "postDashboard", method: "POST", path: "/api/dashboards/db", body: { dashboard: { ...d, id: null }, folderUid: f.uid, overwrite: true, message: "provisioned by the rtdw Pulumi stack" } }),
    ),
  ];
}

/** What removes what `previous` provisioned and `next` no longer has (or everything, without `next`). */
export function removalRequests(previous: GrafanaDesired, next?: GrafanaDesired): GrafanaRequest[] {
  const keepDashboards = new Set(next?.dashboards.map((d) => d.uid) ?? []);
  const keepContacts = new Set(next?.contactPoints.map((c) => c.uid) ?? []);
  const gone: GrafanaRequest[] = [
    ...previous.dashboards.filter((d) => !keepDashboards.has(d.uid)).map((d): GrafanaRequest => ({ op: "deleteDashboard", method: "DELETE", path: `/api/dashboards/uid/${enc(d.uid)}`, fallbackOn: [404] })),
  ];
  if (!next) {
    // The policy first: contact points it names cannot be deleted.
    gone.push({ op: "resetPolicyTree", method: "DELETE", path: "/api/v1/provisioning/policies" });
    gone.push({ op: "deleteFolder", method: "DELETE", path: `/api/folders/${enc(previous.folder.uid)}?forceDeleteRules=true`, fallbackOn: [404] });
  }
  gone.push(...previous.contactPoints.filter((c) => !keepContacts.has(c.uid)).map((c): GrafanaRequest => ({ op: "deleteContactPoint", method: "DELETE", path: `/api/v1/provisioning/contact-points/${enc(c.uid)}`, fallbackOn: [404] })));
  return gone;
}

/** What `pulumi refresh` reads to find what Grafana lacks: the folder, the rule group, the contact points, each dashboard. */
export function readRequests(desired: GrafanaDesired): { folder: GrafanaRequest; ruleGroup: GrafanaRequest; contactPoints: GrafanaRequest; dashboards: GrafanaRequest[] } {
  return {
    folder: { op: "getFolder", method: "GET", path: `/api/folders/${enc(desired.folder.uid)}` },
    ruleGroup: { op: "getRuleGroup", method: "GET", path: `/api/v1/provisioning/folder/${enc(desired.ruleGroup.folderUid)}/rule-groups/${enc(desired.ruleGroup.title)}` },
    contactPoints: { op: "getContactPoints", method: "GET", path: "/api/v1/provisioning/contact-points" },
    dashboards: desired.dashboards.map((d): GrafanaRequest => ({ op: "getDashboard", method: "GET", path: `/api/dashboards/uid/${enc(d.uid)}` })),
  };
}
