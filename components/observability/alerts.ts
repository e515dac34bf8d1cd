import * as YAML from "yaml";
import { loadJobTable } from "../config/jobTable";
import { Team, TEAMS } from "../config/teams";

/**
 * Every alert of the platform, written once. Rendered as a Prometheus rule file (renderPrometheusRules)
 * and routed by its `team` label (renderAlertmanagerConfig). Each alert carries its own examples: a
 * series that must fire it and a healthy one that must not, which become `promtool test rules` cases.
 */

export interface AlertExample {
  /** Prometheus test-series notation, e.g. {series: 'up{job="kafka"}', values: "1 1 0x10"}. */
  readonly series: readonly { readonly series: string; readonly values: string }[];
  /** When the rule is evaluated, e.g. "10m". */
  readonly at: string;
  /** Labels the firing alert carries besides alertname, severity and team. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The summary the firing alert renders (its template filled in). */
  readonly summary?: string;
}

export interface AlertDef {
  readonly name: string;
  readonly expr: string;
  /** What to do first, for the on-call person (rendered into docs/alerts.md). */
  readonly action: string;
  /** How long the condition must hold; "0m" fires at once. */
  readonly for: string;
  readonly severity: "critical" | "warning";
  readonly team: Team;
  readonly summary: string;
  readonly fires: AlertExample;
  readonly healthy: AlertExample;
}

/** Each alert's runbook entry: its section of the generated alerts page of this repository. */
export const runbookOf = (a: Pick<AlertDef, "name">) => `docs/alerts.md#${a.name.toLowerCase()}`;
/** Jobs that should run: the job table, one source of truth with the FlinkSqlJob resources. */
const JOB_NAMES = loadJobTable().map((j) => j.name);

/**
 * A job name as Flink's Prometheus reporter writes it into the job_name label: every character
 * outside [A-Za-z0-9:_] becomes "_" (rt-dw-monitor -> rt_dw_monitor; seen on the sandbox's Flink 1.20.3).
 */
export const flinkLabel = (job: string) => job.replace(/[^A-Za-z0-9:_]/g, "_");

/**
 * One series per job of the table that has no job metrics: a job that is not running (a failed or
 * cancelled job's metric group is closed, its series go stale at the next scrape), named.
 */
/** A summary as the docs show it: each looked-up part as what it adds, each template value as "…". */
function summaryForDocs(summary: string): string {
  return summary.replace(EXCEPTION_OF_JOB, " (with the job's root exception, when the job exporter has one)").replace(/\{\{[^}]*\}\}/g, "…");
}

/** "; its job <id> is <state>: <root exception>" from the job exporter's series of the alert's job_name, or nothing when it has none. */
const EXCEPTION_OF_JOB =
  '{{ with printf "rtdw_flink_job_exception_info{job_name=\\"%s\\"}" $labels.job_name | query }}{{ with first . }}; its job {{ label "job_id" . }} is {{ label "state" . }}: {{ label "exception" . }}{{ end }}{{ end }}';

export function jobNotRunningExpr(jobs: readonly string[]): string {
  return jobs.map((j) => `(label_replace(vector(1), "job_name", "${flinkLabel(j)}", "", "") unless on (job_name) flink_jobmanager_job_uptime)`).join(" or ");
}

/** The series that holds each issued certificate's end, in seconds since the epoch. */
export const CERTIFICATE_NOT_AFTER = "rtdw_certificate_not_after_timestamp_seconds";
/** `up` renews 30 days before the end; a certificate this close to it means no `up` has run since. */
const CERTIFICATE_WARN_DAYS = 14;

export const ALERTS: readonly AlertDef[] = [
  {
    name: "FlinkJobNotRunning",
    action: "Read the root exception in the alert (the whole trace: the Flink UI's exceptions page of the job); the next `pulumi up` resumes it from its newest state (its preview says `resume from … (job was FAILED)`), no refresh needed.",
    expr: jobNotRunningExpr(JOB_NAMES),
    for: "0m",
    severity: "critical",
    team: "ops",
    // The root exception comes from the job exporter (rtdw_flink_job_exception_info), looked up by job_name when it has one.
    summary: `Flink job {{ $labels.job_name }} is not running (failed after its restarts, cancelled, or gone)${EXCEPTION_OF_JOB}`,
    // The job's metric group closes with it: the next scrape marks its series stale (promtool: "stale").
    fires: {
      series: JOB_NAMES.slice(1)
        .map((j, i) => ({ series: `flink_jobmanager_job_uptime{job_name="${flinkLabel(j)}",job_id="${i}"}`, values: "1000+60000x10" }))
        .concat([
          { series: `flink_jobmanager_job_uptime{job_name="${flinkLabel(JOB_NAMES[0])}",job_id="x"}`, values: "1000+60000x3 stale" },
          { series: `rtdw_flink_job_exception_info{job_name="${flinkLabel(JOB_NAMES[0])}",job_id="x",state="FAILED",exception="java.lang.RuntimeException: Writing records to JDBC failed. ... caused by java.sql.SQLException: INSERT command denied"}`, values: "_x3 1x7" },
        ]),
      at: "5m",
      labels: { job_name: flinkLabel(JOB_NAMES[0]) },
      summary: `Flink job ${flinkLabel(JOB_NAMES[0])} is not running (failed after its restarts, cancelled, or gone); its job x is FAILED: java.lang.RuntimeException: Writing records to JDBC failed. ... caused by java.sql.SQLException: INSERT command denied`,
    },
    healthy: { series: JOB_NAMES.map((j, i) => ({ series: `flink_jobmanager_job_uptime{job_name="${flinkLabel(j)}",job_id="${i}"}`, values: "1000+60000x10" })), at: "5m" },
  },
  {
    name: "FlinkJobRestarting",
    action: "Read the job's exception history in the Flink UI; a job that keeps restarting exhausts its restart strategy and then stops.",
    expr: "delta(flink_jobmanager_job_numRestarts[2m]) > 0",
    for: "0m",
    severity: "critical",
    team: "ops",
    summary: "Flink job {{ $labels.job_name }} restarted (it failed)",
    fires: { series: [{ series: 'flink_jobmanager_job_numRestarts{job_name="rt-dw-ods-processing"}', values: "0x5 1x5" }], at: "6m", labels: { job_name: "rt-dw-ods-processing" }, summary: "Flink job rt-dw-ods-processing restarted (it failed)" },
    healthy: { series: [{ series: 'flink_jobmanager_job_numRestarts{job_name="rt-dw-ods-processing"}', values: "3x10" }], at: "6m" },
  },
  {
    name: "FlinkCheckpointFailures",
    action: "Check object-store reachability and checkpoint duration; without checkpoints Paimon and Kafka sinks commit nothing.",
    expr: "delta(flink_jobmanager_job_numberOfFailedCheckpoints[10m]) > 0",
    for: "5m",
    severity: "warning",
    team: "ops",
    summary: "Checkpoints of {{ $labels.job_name }} are failing: no exactly-once commits to Paimon or Kafka",
    fires: { series: [{ series: 'flink_jobmanager_job_numberOfFailedCheckpoints{job_name="rt-dw-dwd-transform"}', values: "0 1+1x20" }], at: "10m", labels: { job_name: "rt-dw-dwd-transform" }, summary: "Checkpoints of rt-dw-dwd-transform are failing: no exactly-once commits to Paimon or Kafka" },
    healthy: { series: [{ series: 'flink_jobmanager_job_numberOfFailedCheckpoints{job_name="rt-dw-dwd-transform"}', values: "2x20" }], at: "10m" },
  },
  {
    name: "FlinkBackpressure",
    action: "Find the slowest operator (busy time) in the Flink UI; scale the job's parallelism in sql/jobs.yaml or the stack's rtdw:flink.",
    expr: "max by (job_name) (flink_taskmanager_job_task_backPressuredTimeMsPerSecond) > 500",
    for: "10m",
    severity: "warning",
    team: "ops",
    summary: "{{ $labels.job_name }} is back-pressured more than half of the time",
    fires: { series: [{ series: 'flink_taskmanager_job_task_backPressuredTimeMsPerSecond{job_name="rt-trk-ods",task_name="src"}', values: "800x20" }], at: "15m", labels: { job_name: "rt-trk-ods" }, summary: "rt-trk-ods is back-pressured more than half of the time" },
    healthy: { series: [{ series: 'flink_taskmanager_job_task_backPressuredTimeMsPerSecond{job_name="rt-trk-ods",task_name="src"}', values: "100x20" }], at: "15m" },
  },
  {
    name: "DataDelayOver5Minutes",
    action: "Check the source (MySQL binlog, Kafka) and the job's backpressure; tell the business owners which tables are late.",
    expr: "max by (job_name) (flink_taskmanager_job_task_operator_currentEmitEventTimeLag) > 300000",
    for: "2m",
    severity: "warning",
    team: "business",
    summary: "Data of {{ $labels.job_name }} is more than 5 minutes behind",
    fires: { series: [{ series: 'flink_taskmanager_job_task_operator_currentEmitEventTimeLag{job_name="rt-dw-cdc-ingestion",operator_name="src"}', values: "1000x2 400000x10" }], at: "6m", labels: { job_name: "rt-dw-cdc-ingestion" }, summary: "Data of rt-dw-cdc-ingestion is more than 5 minutes behind" },
    healthy: { series: [{ series: 'flink_taskmanager_job_task_operator_currentEmitEventTimeLag{job_name="rt-dw-cdc-ingestion",operator_name="src"}', values: "200000x10" }], at: "6m" },
  },
  {
    name: "KafkaConsumerLag",
    action: "Check that the consuming job runs and is not back-pressured; lag grows while a job is down or too slow.",
    expr: "sum by (consumergroup) (kafka_consumergroup_lag) > 100000",
    for: "10m",
    severity: "warning",
    team: "business",
    summary: "Consumer group {{ $labels.consumergroup }} is {{ $value }} records behind",
    fires: { series: [{ series: 'kafka_consumergroup_lag{consumergroup="rt-trk-ods",topic="tracking.events",partition="0"}', values: "200000x20" }], at: "15m", labels: { consumergroup: "rt-trk-ods" }, summary: "Consumer group rt-trk-ods is 200000 records behind" },
    healthy: { series: [{ series: 'kafka_consumergroup_lag{consumergroup="rt-trk-ods",topic="tracking.events",partition="0"}', values: "500x20" }], at: "15m" },
  },
  {
    name: "PostgresWalArchiveFailing",
    action:
      "PostgreSQL cannot archive WAL to the backups bucket: point-in-time recovery stops at the last archived segment and unarchived WAL fills the volume. Read the postgres container's log (pgBackRest's error: credentials, bucket, the TLS hop) and run `pgbackrest --stanza=rtdw check` in the backup container; see docs/operations.md.",
    expr: "max(rtdw_wal_archive_failing) == 1",
    for: "15m",
    severity: "critical",
    team: "ops",
    summary: "PostgreSQL's WAL archive has been failing for 15 minutes",
    fires: { series: [{ series: "rtdw_wal_archive_failing", values: "0 1x30" }], at: "20m", summary: "PostgreSQL's WAL archive has been failing for 15 minutes" },
    healthy: { series: [{ series: "rtdw_wal_archive_failing", values: "0x30" }], at: "20m" },
  },
  {
    name: "DataQualityBelow90",
    action: "Query dq.dwd_rejects for the table and hour to see which rule rejects rows, then fix the source data or the rule.",
    expr: "min by (table_name) (rtdw_quality_score) < 90",
    for: "10m",
    severity: "warning",
    team: "data",
    summary: "Quality score of {{ $labels.table_name }} is {{ $value }} (below 90)",
    fires: { series: [{ series: 'rtdw_quality_score{table_name="shop.orders"}', values: "99 80x20" }], at: "15m", labels: { table_name: "shop.orders" }, summary: "Quality score of shop.orders is 80 (below 90)" },
    healthy: { series: [{ series: 'rtdw_quality_score{table_name="shop.orders"}', values: "95x20" }], at: "15m" },
  },
  {
    name: "TrackingDeadLetterRate",
    action: "Read reasons in the tracking.dead-letter topic; a new SDK version or a broken client usually explains a jump.",
    expr: 'sum(rate(kafka_topic_partition_current_offset{topic="tracking.dead-letter"}[5m])) > 1',
    for: "10m",
    severity: "warning",
    team: "data",
    summary: "More than 1 tracking event per second goes to the dead-letter topic ({{ $value }}/s)",
    fires: { series: [{ series: 'kafka_topic_partition_current_offset{topic="tracking.dead-letter",partition="0"}', values: "0+600x30" }], at: "20m", summary: "More than 1 tracking event per second goes to the dead-letter topic (10/s)" },
    healthy: { series: [{ series: 'kafka_topic_partition_current_offset{topic="tracking.dead-letter",partition="0"}', values: "0+6x30" }], at: "20m" },
  },
  {
    name: "TrackingArchiveFailing",
    action:
      "Vector cannot write the raw archive to object storage (the archive user's keys, the bucket, the network policy to MinIO/S3): lines wait in its disk buffer and are retried; Kafka and the pipeline are unaffected. Read Vector's log for raw_archive errors. When the buffer fills, new events are dropped from the archive (TrackingArchiveDropping); see docs/pipelines.md.",
    expr: 'sum(rate(vector_component_errors_total{component_id="raw_archive"}[5m])) > 0',
    for: "15m",
    severity: "warning",
    team: "ops",
    summary: "The raw archive has failed to write for 15 minutes ({{ $value }} errors/s)",
    fires: { series: [{ series: 'vector_component_errors_total{component_id="raw_archive",error_type="request_failed",stage="sending"}', values: "0+6x30" }], at: "20m", summary: "The raw archive has failed to write for 15 minutes (0.1 errors/s)" },
    healthy: { series: [{ series: 'vector_component_errors_total{component_id="raw_archive",error_type="request_failed",stage="sending"}', values: "0x30" }], at: "20m" },
  },
  {
    name: "TrackingArchiveDropping",
    action:
      "The raw archive's disk buffer is full (object storage unreachable for long, see TrackingArchiveFailing): new events are dropped from the archive, so that window cannot be replayed from it. Kafka, ODS and the requests are unaffected. Fix the write path; the dropped count is vector_buffer_discarded_events_total{component_id=\"raw_archive\"}.",
    expr: 'sum(increase(vector_buffer_discarded_events_total{component_id="raw_archive"}[10m])) > 0',
    for: "1m",
    severity: "critical",
    team: "ops",
    summary: "The raw archive dropped {{ $value }} events in 10 minutes (its buffer is full)",
    fires: { series: [{ series: 'vector_buffer_discarded_events_total{component_id="raw_archive",intentional="true"}', values: "0 0 0 100 200 300 400 500 600 700 800 900 1000" }], at: "10m", summary: "The raw archive dropped 800 events in 10 minutes (its buffer is full)" },
    healthy: { series: [{ series: 'vector_buffer_discarded_events_total{component_id="raw_archive",intentional="true"}', values: "0x20" }], at: "15m" },
  },
  {
    name: "TrackingCollectorRefusing",
    action:
      "refused_by tells who: rate_limit or connection_limit is one client (an address, or a carrier NAT) past rtdw:collector's limits, abuse or a misbehaving app, see limit_req/limit_conn in Nginx's access log; upstream means Vector could not take the requests (its health, Kafka). SDKs retry 503s, so nothing is lost yet, but devices are holding batches.",
    expr: 'sum by (refused_by) (rate(rtdw_collector_responses_total{status="503"}[5m])) / scalar(sum(rate(rtdw_collector_responses_total[5m]))) > 0.05',
    for: "10m",
    severity: "warning",
    team: "ops",
    summary: "The tracking collector refuses {{ $value | humanizePercentage }} of requests with 503 ({{ $labels.refused_by }})",
    fires: {
      series: [
        { series: 'rtdw_collector_responses_total{status="200",refused_by="none",instance="vector-0"}', values: "0+540x30" },
        { series: 'rtdw_collector_responses_total{status="503",refused_by="rate_limit",instance="vector-0"}', values: "0+60x30" },
      ],
      at: "20m",
      labels: { refused_by: "rate_limit" },
      summary: "The tracking collector refuses 10% of requests with 503 (rate_limit)",
    },
    healthy: {
      series: [
        { series: 'rtdw_collector_responses_total{status="200",refused_by="none",instance="vector-0"}', values: "0+600x30" },
        { series: 'rtdw_collector_responses_total{status="503",refused_by="upstream",instance="vector-0"}', values: "0+6x30" },
      ],
      at: "20m",
    },
  },
  {
    name: "HighCpuUsage",
    action: "Check which container is busy and whether its sizing in rtdw:sizing still fits the load.",
    // cAdvisor's own series (the kubelet's, scraped by the stack's Prometheus): usage over the CFS quota.
    expr: 'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[5m])) / sum by (namespace, pod) (container_spec_cpu_quota{container!=""} / container_spec_cpu_period{container!=""}) > 0.8',
    for: "10m",
    severity: "warning",
    team: "infra",
    summary: "{{ $labels.pod }} uses more than 80% of its CPU limit",
    fires: {
      series: [
        { series: 'container_cpu_usage_seconds_total{namespace="rtdw",pod="kafka-0",container="kafka"}', values: "0+54x30" },
        { series: 'container_spec_cpu_quota{namespace="rtdw",pod="kafka-0",container="kafka"}', values: "100000x30" },
        { series: 'container_spec_cpu_period{namespace="rtdw",pod="kafka-0",container="kafka"}', values: "100000x30" },
      ],
      at: "20m",
      labels: { namespace: "rtdw", pod: "kafka-0" },
      summary: "kafka-0 uses more than 80% of its CPU limit",
    },
    healthy: {
      series: [
        { series: 'container_cpu_usage_seconds_total{namespace="rtdw",pod="kafka-0",container="kafka"}', values: "0+12x30" },
        { series: 'container_spec_cpu_quota{namespace="rtdw",pod="kafka-0",container="kafka"}', values: "100000x30" },
        { series: 'container_spec_cpu_period{namespace="rtdw",pod="kafka-0",container="kafka"}', values: "100000x30" },
      ],
      at: "20m",
    },
  },
  {
    name: "HighMemoryUsage",
    action: "Check the container's memory trend; raise its memory in rtdw:sizing before it is OOM-killed.",
    expr: 'sum by (namespace, pod) (container_memory_working_set_bytes{container!=""}) / sum by (namespace, pod) (container_spec_memory_limit_bytes{container!=""} > 0) > 0.8',
    for: "10m",
    severity: "warning",
    team: "infra",
    summary: "{{ $labels.pod }} uses more than 80% of its memory limit",
    fires: {
      series: [
        { series: 'container_memory_working_set_bytes{namespace="rtdw",pod="redis-0",container="redis"}', values: "900x30" },
        { series: 'container_spec_memory_limit_bytes{namespace="rtdw",pod="redis-0",container="redis"}', values: "1000x30" },
      ],
      at: "20m",
      labels: { namespace: "rtdw", pod: "redis-0" },
      summary: "redis-0 uses more than 80% of its memory limit",
    },
    healthy: {
      series: [
        { series: 'container_memory_working_set_bytes{namespace="rtdw",pod="redis-0",container="redis"}', values: "500x30" },
        { series: 'container_spec_memory_limit_bytes{namespace="rtdw",pod="redis-0",container="redis"}', values: "1000x30" },
      ],
      at: "20m",
    },
  },
  {
    name: "ServiceDown",
    action: "Check the service's pod/container status and logs; the scrape target names the instance.",
    expr: "up == 0",
    for: "2m",
    severity: "critical",
    team: "infra",
    summary: "{{ $labels.job }} at {{ $labels.instance }} does not answer its scrape",
    fires: { series: [{ series: 'up{job="kafka",instance="kafka-0:9308"}', values: "1 0x10" }], at: "5m", labels: { job: "kafka", instance: "kafka-0:9308" }, summary: "kafka at kafka-0:9308 does not answer its scrape" },
    healthy: { series: [{ series: 'up{job="kafka",instance="kafka-0:9308"}', values: "1x10" }], at: "5m" },
  },
  {
    name: "CertificateExpiresSoon",
    action: "Run `pulumi up` on the stack: a certificate within its renewal window is renewed by the same CA (preview shows its ServerCertificate updated, the brokers restart one at a time). Firing means no `up` has run since the window opened.",
    // The recorded expiry is the state's (certificateRules below), so a renewal by `up` clears it.
    expr: `min by (certificate) (${CERTIFICATE_NOT_AFTER}) - time() < ${CERTIFICATE_WARN_DAYS} * 86400`,
    for: "1h",
    severity: "warning",
    team: "infra",
    summary: "The {{ $labels.certificate }} certificate expires in {{ $value | humanizeDuration }}",
    fires: { series: [{ series: `${CERTIFICATE_NOT_AFTER}{certificate="kafka"}`, values: "864000x120" }], at: "90m", labels: { certificate: "kafka" }, summary: "The kafka certificate expires in 9d 22h 30m 0s" },
    healthy: { series: [{ series: `${CERTIFICATE_NOT_AFTER}{certificate="kafka"}`, values: "100000000x120" }], at: "90m" },
  },
];

/** A certificate the stack issued, by the name the alert reports it under. */
export interface IssuedCertificate {
  readonly name: string;
  /** Its end (ISO 8601), as the state holds it. */
  readonly notAfter: string;
}

/** Recording rules stating each issued certificate's end, the series CertificateExpiresSoon watches. */
export function certificateRules(certificates: readonly IssuedCertificate[]): Record<string, unknown>[] {
  return certificates.map((c) => {
    const seconds = Date.parse(c.notAfter) / 1000;
    if (!Number.isFinite(seconds)) throw new Error(`certificate ${c.name}: notAfter "${c.notAfter}" is not a date`);
    return { record: CERTIFICATE_NOT_AFTER, expr: `vector(${Math.floor(seconds)})`, labels: { certificate: c.name } };
  });
}

/** docs/alerts.md: every alert with its condition, team and first action (the runbook links here). */
export function renderAlertsDoc(alerts: readonly AlertDef[] = ALERTS): string {
  const lines = [
    "# Alerts",
    "",
    "Generated from `components/observability/alerts.ts` by `npm run docs`; do not edit. Routing: each",
    "team's alerts go to that team's receiver (Alertmanager routes by the `team` label); critical ops",
    "alerts (job failures) are sent at once, without grouping delay.",
    "",
    "| alert | condition | for | severity | team |",
    "|---|---|---|---|---|",
    ...alerts.map((a) => `| [${a.name}](#${a.name.toLowerCase()}) | \`${a.expr.replace(/\|/g, "\\|")}\` | ${a.for} | ${a.severity} | ${a.team} |`),
    "",
  ];
  for (const a of alerts) lines.push(`## ${a.name}`, "", `${summaryForDocs(a.summary)}.`, "", `First action: ${a.action}`, "");
  return lines.join("\n");
}

/**
 * The Prometheus rule file: the alerts in one group (labels severity + team, summary and runbook as
 * annotations), and the issued certificates' ends as recording rules in another.
 */
export function renderPrometheusRules(alerts: readonly AlertDef[] = ALERTS, certificates: readonly IssuedCertificate[] = []): string {
  return YAML.stringify({
    groups: [
      {
        name: "rtdw",
        rules: alerts.map((a) => ({
          alert: a.name,
          expr: a.expr,
          for: a.for,
          labels: { severity: a.severity, team: a.team },
          annotations: { summary: a.summary, runbook_url: runbookOf(a) },
        })),
      },
      ...(certificates.length ? [{ name: "rtdw-certificates", rules: certificateRules(certificates) }] : []),
    ],
  });
}

/** `promtool test rules` cases from each alert's own examples. */
export function renderRuleTests(ruleFile: string, alerts: readonly AlertDef[] = ALERTS): string {
  return YAML.stringify({
    rule_files: [ruleFile],
    evaluation_interval: "1m",
    tests: alerts.flatMap((a) => [
      {
        name: `${a.name} fires`,
        interval: "1m",
        input_series: a.fires.series,
        alert_rule_test: [
          {
            eval_time: a.fires.at,
            alertname: a.name,
            exp_alerts: [{ exp_labels: { severity: a.severity, team: a.team, ...a.fires.labels }, exp_annotations: { summary: a.fires.summary ?? a.summary, runbook_url: runbookOf(a) } }],
          },
        ],
      },
      {
        name: `${a.name} stays silent when healthy`,
        interval: "1m",
        input_series: a.healthy.series,
        alert_rule_test: [{ eval_time: a.healthy.at, alertname: a.name, exp_alerts: [] }],
      },
    ]),
  });
}

/**
 * Alertmanager routing by team: one receiver per team (a webhook each), job failures sent at once
 * (no group wait), the rest grouped. `webhooks` maps team -> URL; a team without one still gets its
 * receiver (alerts shown in Alertmanager, sent nowhere).
 */
export function renderAlertmanagerConfig(webhooks: Readonly<Partial<Record<Team, string>>>): string {
  return YAML.stringify({
    route: {
      receiver: "team-ops",
      group_by: ["alertname", "job_name", "table_name"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        { receiver: "team-ops", matchers: ['team="ops"', 'severity="critical"'], group_wait: "0s", repeat_interval: "1h" },
        ...TEAMS.map((t) => ({ receiver: `team-${t}`, matchers: [`team="${t}"`] })),
      ],
    },
    receivers: TEAMS.map((t) => ({ name: `team-${t}`, ...(webhooks[t] ? { webhook_configs: [{ url: webhooks[t], send_resolved: true }] } : {}) })),
  });
}
