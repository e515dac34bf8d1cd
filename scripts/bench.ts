/**
 * `npm run bench`: the tracking ODS job's own SQL (sql/tracking/ods.sql, rt-trk-ods) on the sandbox.
 *
 * 1. Throughput: N events as Vector emits them are put on a fresh topic; the job's SQL runs over them
 *    twice in this same script, with the Kafka source bounded at the latest offset: once into
 *    blackhole tables of the same schema (the baseline: Kafka + parsing, no storage) and once into
 *    Paimon ODS on MinIO. Reported: events/s of each and their ratio (target >= 0.5).
 * 2. Freshness: the job runs unbounded with the sandbox's checkpoint interval while events are sent
 *    at a steady rate, each stamped with its send time; afterwards every Paimon snapshot's commit
 *    time (when its rows became visible) is read, so each event's freshness is commit - sent.
 *    Reported: p50/p95 (target p95 <= checkpoint interval + 5 s).
 * Results go to stdout and bench/results.json; nothing here is a pass/fail test.
 */
import * as fs from "fs";
import * as path from "path";
import { JobManagerClient } from "../components/flink/jobManager";
import { SqlGatewayClient } from "../components/flink/sqlGateway";
import { renderSql, splitStatements, withSecrets } from "../components/jobs/render";
import { jobConfig } from "../components/jobs/script";
import { loadJobTable, readJobSql, SQL_DIR } from "../components/jobs/table";
import { describe, sandboxKafka, up } from "../sandbox";
import { asKafkaOperator, operatorSecrets, sandboxJobEnvironment, sandboxJobSecrets } from "../sandbox/jobs";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 300000);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const FRESHNESS_SECONDS = Number(process.env.BENCH_FRESHNESS_SECONDS ?? 60);
const CHECKPOINT_MS = Number(process.env.BENCH_CHECKPOINT_MS ?? 10000);

const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

const kafka = () => sandboxKafka("rtdw-bench", true);

function event(i: number, time: number) {
  const user = `bench-u${i % 5000}`;
  return {
    key: user,
    value: JSON.stringify({
      anonymous_id: null, city: "Hangzhou", country: "China", distinct_id: user, event: i % 4 === 0 ? "AddToCart" : "ViewProduct", event_id: `bench-${i}`,
      flush_time: time, ip: "198.51.100.7", is_core: i % 10 === 0, lib: "js", lib_version: "1.26.0", login_id: null, project: "shop",
      properties: { price: (i % 500) + 0.99, product_id: i % 997 }, province: "Zhejiang", recv_time: time, time, track_id: i, type: "track", user_agent: "bench",
    }),
  };
}

async function createTopic(name: string, partitions: number) {
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
}

/** The job's SQL with its source topic swapped and its sinks replaced (blackhole) or renamed (bench tables). */
function benchStatements(topic: string, group: string, sink: "blackhole" | "paimon", suffix: string, bounded: boolean): string[] {
  const job = loadJobTable().find((j) => j.name === "rt-trk-ods")!;
  const env = sandboxJobEnvironment(undefined, job.name);
  let sql = asKafkaOperator(renderSql(readJobSql(job), env, job.sql))
    .replace("'topic' = 'tracking.events'", `'topic' = '${topic}'`)
    .replace("'properties.group.id' = 'rt-trk-ods'", `'properties.group.id' = '${group}'`)
    .replace("'scan.startup.mode' = 'group-offsets'", `'scan.startup.mode' = 'earliest-offset'${bounded ? ", 'scan.bounded.mode' = 'latest-offset'" : ""}`)
    .replace(/\bods\.tracking_events\b/g, `bench.ods_${suffix}`)
    .replace(/\bdq\.tracking_rejects\b/g, `bench.rejects_${suffix}`);
  const tables =
    sink === "blackhole"
      ? [`CREATE TEMPORARY TABLE bench.ods_${suffix} WITH ('connector' = 'blackhole') LIKE rtdw.ods.tracking_events (EXCLUDING ALL)`,
         `CREATE TEMPORARY TABLE bench.rejects_${suffix} WITH ('connector' = 'blackhole') LIKE rtdw.dq.tracking_rejects (EXCLUDING ALL)`]
      : [`CREATE TABLE bench.ods_${suffix} LIKE rtdw.ods.tracking_events (EXCLUDING OPTIONS)`, `CREATE TABLE bench.rejects_${suffix} LIKE rtdw.dq.tracking_rejects (EXCLUDING OPTIONS)`];
  const base = ["catalog.sql", "tracking/tables.sql"].flatMap((f) => splitStatements(renderSql(fs.readFileSync(path.join(SQL_DIR, f), "utf8"), env, f)));
  return [...base, "CREATE DATABASE IF NOT EXISTS bench", ...tables, ...splitStatements(sql)].map((s) => withSecrets(s, operatorSecrets()));
}

async function runSql(gw: SqlGatewayClient, config: Record<string, string>, statements: string[]): Promise<string> {
  const session = await gw.openSession(config, `bench-${Date.now()}`);
  try {
    let jobId: string | undefined;
    for (const s of statements) jobId = (await gw.execute(session, s, {}, 300000)).jobId ?? jobId;
    return jobId!;
  } finally {
    await gw.closeSession(session).catch(() => undefined);
  }
}

async function throughput(gw: SqlGatewayClient, jm: JobManagerClient, topic: string, sink: "blackhole" | "paimon", suffix: string, config: Record<string, string>) {
  const jobId = await runSql(gw, config, benchStatements(topic, `bench-${suffix}`, sink, suffix, true));
  await jm.waitFor(jobId, ["FINISHED"], 1_800_000);
  const job = (await (await fetch(`${jm.baseUrl}/jobs/${jobId}`)).json()) as { duration: number };
  const seconds = job.duration / 1000;
  return { jobId, seconds, eventsPerSecond: Math.round(EVENTS / seconds) };
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  await up();
  const { endpoints, credentials } = describe();
  const gw = new SqlGatewayClient(endpoints.flink.sqlGatewayUrl);
  const jm = new JobManagerClient(endpoints.flink.restUrl);
  const run = Date.now().toString(36);
  const job = loadJobTable().find((j) => j.name === "rt-trk-ods")!;
  const config = { ...jobConfig(job, sandboxJobEnvironment(), { checkpointIntervalMs: CHECKPOINT_MS }), "pipeline.name": `bench-${run}` };

  // 1. Throughput, baseline and Paimon over the same records.
  const topic = `bench.events.${run}`;
  await createTopic(topic, job.parallelism);
  const producer = kafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  say(`producing ${EVENTS} events to ${topic}`);
  const now = Date.now();
  for (let i = 0; i < EVENTS; i += 1000) {
    await producer.send({ topic, messages: Array.from({ length: Math.min(1000, EVENTS - i) }, (_, k) => event(i + k, now)) });
  }
  say(`running the job's SQL into blackhole (baseline), parallelism ${job.parallelism}`);
  const baseline = await throughput(gw, jm, topic, "blackhole", `bh_${run}`, config);
  say(`baseline: ${baseline.eventsPerSecond} events/s; running it into Paimon ODS`);
  const paimon = await throughput(gw, jm, topic, "paimon", `p_${run}`, config);
  say(`paimon: ${paimon.eventsPerSecond} events/s`);

  // 2. Freshness: unbounded job, steady rate, each event stamped with its send time.
  const ftopic = `bench.fresh.${run}`;
  await createTopic(ftopic, job.parallelism);
  const suffix = `f_${run}`;
  const fjob = await runSql(gw, config, benchStatements(ftopic, `bench-${suffix}`, "paimon", suffix, false));
  await jm.waitFor(fjob, ["RUNNING"]);
  await jm.waitForCheckpoints(fjob, 1, 120000);
  say(`sending ${RATE} events/s for ${FRESHNESS_SECONDS} s`);
  const sent = new Map<number, number>();
  const t0 = Date.now();
  let n = 0;
  while (Date.now() - t0 < FRESHNESS_SECONDS * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
    if (due > n) {
      const batch = [];
      for (; n < due; n++) {
        const t = Date.now();
        sent.set(n, t);
        batch.push(event(n, t));
      }
      await producer.send({ topic: ftopic, messages: batch });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await producer.disconnect();
  // Every event visible: wait for two more checkpoints, then stop.
  await jm.waitForCheckpoints(fjob, 2, 120000);
  await jm.cancel(fjob);

  // Commit time of each snapshot, straight from Paimon's snapshot files on MinIO.
  const Minio = await import("minio");
  const os = new Minio.Client({ endPoint: "127.0.0.1", port: Number(new URL(endpoints.objectStore.endpoint).port), useSSL: false, accessKey: credentials.objectStore.accessKey, secretKey: credentials.objectStore.secretKey });
  const readObject = async (key: string) => {
    const chunks: Buffer[] = [];
    for await (const c of await os.getObject(endpoints.objectStore.buckets.warehouse, key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const snapDir = `paimon/bench.db/ods_${suffix}/snapshot/`;
  const snapshots: { id: number; timeMillis: number }[] = [];
  for await (const o of os.listObjectsV2(endpoints.objectStore.buckets.warehouse, snapDir, true)) {
    const m = /snapshot-(\d+)$/.exec(o.name ?? "");
    if (m) snapshots.push({ id: Number(m[1]), timeMillis: JSON.parse(await readObject(o.name!)).timeMillis });
  }
  snapshots.sort((a, b) => a.id - b.id);
  const session = await gw.openSession({ "execution.runtime-mode": "batch" }, `bench-read-${run}`);
  for (const s of splitStatements(renderSql(fs.readFileSync(path.join(SQL_DIR, "catalog.sql"), "utf8"), sandboxJobEnvironment()))) await gw.execute(session, withSecrets(s, sandboxJobSecrets()));
  const lags: number[] = [];
  let prev = 0;
  for (const s of snapshots) {
    const opt = prev === 0 ? `'scan.snapshot-id' = '${s.id}'` : `'incremental-between' = '${prev},${s.id}'`;
    const r = await gw.execute(session, `SELECT track_id FROM bench.ods_${suffix} /*+ OPTIONS(${opt}) */`, {}, 300000);
    for (const [id] of r.rows) {
      const t = sent.get(Number(id));
      if (t !== undefined) lags.push(s.timeMillis - t);
    }
    prev = s.id;
  }
  await gw.closeSession(session);
  lags.sort((a, b) => a - b);
  const freshness = {
    events: sent.size,
    seen: lags.length,
    p50Ms: percentile(lags, 50),
    p95Ms: percentile(lags, 95),
    maxMs: lags[lags.length - 1],
    checkpointIntervalMs: CHECKPOINT_MS,
    targetP95Ms: CHECKPOINT_MS + 5000,
  };

  const results = {
    when: new Date().toISOString(),
    job: job.name,
    parallelism: job.parallelism,
    events: EVENTS,
    throughput: { baseline, paimon, ratio: Number((paimon.eventsPerSecond / baseline.eventsPerSecond).toFixed(2)), target: 0.5 },
    freshness,
  };
  fs.mkdirSync(path.resolve(__dirname, "../bench"), { recursive: true });
  fs.writeFileSync(path.resolve(__dirname, "../bench/results.json"), JSON.stringify(results, null, 2) + "\n");
  console.log(`
| measure | value | target |
|---|---|---|
| Kafka -> Flink -> blackhole (baseline) | ${baseline.eventsPerSecond} events/s | |
| Kafka -> Flink -> Paimon ODS | ${paimon.eventsPerSecond} events/s | |
| ratio Paimon / baseline | ${results.throughput.ratio} | >= 0.5 |
| freshness p50 (sent -> visible in ODS) | ${(freshness.p50Ms / 1000).toFixed(1)} s | |
| freshness p95 | ${(freshness.p95Ms / 1000).toFixed(1)} s | <= ${(freshness.targetP95Ms / 1000).toFixed(0)} s (checkpoint ${CHECKPOINT_MS / 1000} s + 5 s) |
| events seen / sent (freshness run) | ${freshness.seen} / ${freshness.events} | all |
`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench failed: ${(e as Error).message}`);
    process.exit(1);
  },
);
