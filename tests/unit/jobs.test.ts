import { DEFAULT_LAKEHOUSE } from "../../components/config/lakehousePolicy";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig, sizingTotals } from "../../components/config";
import { flinkSizing } from "../../components/config/flinkSizing";
import { JobEnvironment, renderSql, secretsUsed, splitStatements, withSecrets } from "../../components/jobs/render";
import { loadJobTable, readJobSql, SQL_DIR } from "../../components/config/jobTable";
import { sinkTablesInSql, stackSinks, starrocksDwsTables } from "../../components/jobs/sinks";
import { TOPICS } from "../../components/pipelines/topics";

const cfg = (stack: string) =>
  parseStackConfig(
    "rtdw",
    stack,
    {
      "rtdw:sourcePassword": "source-password-0001",
      "rtdw:alertWebhooks": '{"ops": "https://hooks.example.com/ops", "business": "https://hooks.example.com/b", "data": "https://hooks.example.com/d", "infra": "https://hooks.example.com/i"}',
      ...(stack === "dev" ? {} : { "rtdw:imageRegistry": "registry.example.com/rtdw", "rtdw:source": '{"host":"mysql","database":"shop","user":"rtdw_cdc"}' }),
      // Sizing does not depend on GeoIP, which prod otherwise requires.
      ...(stack === "prod" ? { "rtdw:collector": '{"geoip": "off"}' } : {}),
    },
    new Set(["rtdw:sourcePassword", "rtdw:alertWebhooks"]),
  );

describe("the job table drives Flink sizing", () => {
  const jobs = loadJobTable();

  it("holds the seeds' five warehouse jobs with their parallelism, memory and checkpoint interval, and the warehouse ODS compaction job", () => {
    const w = Object.fromEntries(jobs.filter((j) => j.pipeline === "warehouse").map((j) => [j.name, [j.parallelism, j.taskManagerMemoryMiB, j.jobManagerMemoryMiB, j.checkpointIntervalMs]]));
    expect(w).toEqual({
      "rt-dw-cdc-ingestion": [2, 2048, 1024, 30_000],
      "rt-dw-ods-processing": [2, 2048, 1024, 60_000],
      "rt-dw-dwd-transform": [4, 3072, 1024, 60_000],
      "rt-dw-dws-aggregate": [2, 2048, 1024, 120_000],
      "rt-dw-monitor": [1, 1024, 1024, 300_000],
      "rt-dw-compaction": [1, 512, 1024, 60_000],
    });
  });

  it.each(["dev"])("%s (one shared cluster): slots and TaskManager memory equal what the table requires", (stack) => {
    const c = cfg(stack);
    const need = jobs.reduce((n, j) => n + Math.min(j.parallelism, c.flink.maxParallelism ?? j.parallelism), 0);
    expect(c.flink.requiredSlots).toBe(need);
    expect(c.flink.slots).toBeGreaterThanOrEqual(need + c.flink.spareSlots);
    expect(c.flink.slots - c.flink.slotsPerTaskManager).toBeLessThan(need + c.flink.spareSlots);
    const perSlot = (jobs.reduce((n, j) => n + c.flink.parallelism[j.name] * j.taskManagerMemoryMiB, 0) / need) * c.flink.memoryScale;
    expect(c.flink.taskManagerMemoryMiB).toBeGreaterThanOrEqual(perSlot * c.flink.slotsPerTaskManager);
    expect(c.flink.taskManagerMemoryMiB).toBeLessThan(perSlot * c.flink.slotsPerTaskManager + 128);
    expect(c.sizing.flinkTaskManager).toMatchObject({ replicas: c.flink.taskManagers, memoryMiB: c.flink.taskManagerMemoryMiB });
  });

  it.each(["test", "prod"])("%s (a cluster per job): each job's slots, TaskManager and JobManager memory are its row's, scaled", (stack) => {
    const c = cfg(stack);
    expect(c.flink.clusters).toBe("per-job");
    expect(c.flink.jobClusters.map((x) => x.job)).toEqual(jobs.map((j) => j.name));
    for (const j of jobs) {
      const x = c.flink.jobClusters.find((y) => y.job === j.name)!;
      const parallelism = Math.min(j.parallelism, c.flink.maxParallelism ?? j.parallelism);
      expect({ job: j.name, parallelism: x.parallelism, enough: x.slots >= parallelism + c.flink.spareSlots, tight: x.slots - x.slotsPerTaskManager < parallelism + c.flink.spareSlots }).toEqual({ job: j.name, parallelism, enough: true, tight: true });
      expect(x.taskManagerMemoryMiB).toBe(Math.max(1024, Math.ceil((j.taskManagerMemoryMiB * c.flink.memoryScale * x.slotsPerTaskManager) / 128) * 128));
      expect(x.jobManagerMemoryMiB).toBe(Math.max(768, Math.ceil((j.jobManagerMemoryMiB * c.flink.memoryScale) / 128) * 128));
    }
    // The shared pool has no TaskManager of its own: every one belongs to a job's cluster.
    expect(c.sizing.flinkTaskManager.replicas).toBe(0);
  });

  it("prod runs every job at the documented parallelism; dev caps it at 1 and stays within its budget", () => {
    expect(cfg("prod").flink.parallelism["rt-dw-dwd-transform"]).toBe(4);
    const dev = cfg("dev");
    expect(Object.values(dev.flink.parallelism).every((p) => p === 1)).toBe(true);
    expect(dev.flink.taskManagers).toBe(1);
    const t = sizingTotals(dev.sizing);
    expect(t.memoryMiB).toBeLessThanOrEqual(10 * 1024);
    expect(t.cpuRequest).toBeLessThanOrEqual(4);
  });

  it("refuses TaskManager replicas or memory typed in config: they come from the table", () => {
    expect(() => parseStackConfig("rtdw", "dev", { "rtdw:sizing": JSON.stringify({ flinkTaskManager: { memory: "8Gi" } }), "rtdw:sourcePassword": "x" }, new Set(["rtdw:sourcePassword"]))).toThrow(
      /sizing\.flinkTaskManager\.memory: derived from the job table/,
    );
  });

  it("a broken job table names the row and the field", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jobs-"));
    const file = path.join(dir, "jobs.yaml");
    fs.writeFileSync(file, "jobs:\n  - name: x1x\n    pipeline: warehouse\n    does: d\n    sql: a.sql\n    parallelism: 0\n    taskManagerMemory: lots\n    jobManagerMemory: 1Gi\n    checkpointInterval: 60s\n    upgradeMode: savepoint\n");
    expect(() => loadJobTable(file)).toThrow(/jobs\[0\]\.parallelism[\s\S]*jobs\[0\]\.taskManagerMemory: expected a memory quantity/);
    expect(flinkSizing([], { memoryScale: 1, slotsPerTaskManager: 4, spareSlots: 0 }).taskManagers).toBe(0);
  });

  it("a row's gateTimeout gives its new versions longer to pass the upgrade gate; less than 10 s is refused", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jobs-"));
    fs.writeFileSync(path.join(dir, "a.sql"), "INSERT INTO t SELECT 1;");
    const file = path.join(dir, "jobs.yaml");
    const row = (gate: string) => `jobs:\n  - name: x1x\n    pipeline: warehouse\n    does: d\n    sql: a.sql\n    parallelism: 1\n    taskManagerMemory: 1Gi\n    jobManagerMemory: 1Gi\n    checkpointInterval: 60s\n    upgradeMode: savepoint\n    gateTimeout: ${gate}\n`;
    fs.writeFileSync(file, row("15min"));
    expect(loadJobTable(file)[0].gateTimeoutMs).toBe(900_000);
    fs.writeFileSync(file, row("5s"));
    expect(() => loadJobTable(file)).toThrow(/jobs\[0\]\.gateTimeout: expected a duration of at least 10s/);
    expect(loadJobTable().every((j) => j.gateTimeoutMs === undefined)).toBe(true);
  });
});

const ENV: JobEnvironment = {
  paimon: { jdbcUrl: "jdbc:postgresql://pg:5432/paimon_catalog", user: "paimon_catalog_app", warehouse: "s3://wh/" },
  s3: { endpoint: "http://minio:9000", accessKey: "app", pathStyle: true },
  kafka: { bootstrap: "kafka:9092", user: "rt-job", securityProtocol: "SASL_PLAINTEXT" },
  mysql: { hostname: "mysql", port: 3306, database: "shop", user: "rtdw_cdc" },
  timeZone: "Asia/Shanghai",
  lakehouse: DEFAULT_LAKEHOUSE.prod,
  sinks: Object.fromEntries(
    ["dws_trade_daily", "dws_product_daily", "dq_table_quality", "dws_trk_event_hourly", "dws_trk_event_daily", "dws_trk_funnel_daily"].map((t) => [
      t,
      { connector: "jdbc", url: "jdbc:postgresql://pg/q", "table-name": t, password: "${secret:quality.password}" },
    ]),
  ),
};

describe("job SQL rendering", () => {
  const jobs = loadJobTable();
  const files = ["catalog.sql", "warehouse/tables.sql", "tracking/tables.sql", ...jobs.map((j) => j.sql)];

  it.each(files)("%s renders with no unknown placeholder and no credential in the text", (f) => {
    const sql = renderSql(fs.readFileSync(path.join(SQL_DIR, f), "utf8"), ENV, f);
    expect(sql).not.toMatch(/\$\{(?!secret:)/);
    expect(splitStatements(sql).length).toBeGreaterThan(0);
    const full = withSecrets(sql, Object.fromEntries(secretsUsed(sql).map((s) => [s, `SECRET-${s}`])));
    expect(full).not.toMatch(/\$\{/);
  });

  it("keeps credentials out until submission, then fills every one", () => {
    const sql = renderSql(readJobSql({ sql: "warehouse/cdc_ingestion.sql" }), ENV);
    expect(secretsUsed(sql).sort()).toEqual(["kafka.password", "mysql.password"]);
    expect(() => withSecrets(sql, { "kafka.password": "k" })).toThrow(/needs secret "mysql.password"/);
    expect(withSecrets(sql, { "kafka.password": "k'1", "mysql.password": "m" })).toContain("password=\"k''1\"");
  });

  it("an unknown placeholder or sink is an error naming it", () => {
    expect(() => renderSql("SELECT '${nope.x}'", ENV, "f.sql")).toThrow(/f\.sql: unknown placeholder \$\{nope\.x\}/);
    expect(() => renderSql("WITH (${sink:missing})", ENV)).toThrow(/no sink configured for table "missing"/);
  });

  it("splits a script into statements, keeping a statement set whole", () => {
    const s = splitStatements("CREATE TABLE a (x STRING) WITH ('k' = 'a;b'); -- c;\nEXECUTE STATEMENT SET BEGIN\nINSERT INTO a SELECT 1;\nINSERT INTO a SELECT 2;\nEND;");
    expect(s).toHaveLength(2);
    expect(s[1]).toMatch(/^EXECUTE STATEMENT SET BEGIN[\s\S]*SELECT 2;\nEND$/);
  });

  it("every Kafka topic the SQL names is declared (auto-creation is off)", () => {
    const declared = new Set(TOPICS.map((t) => t.name));
    const used = files.flatMap((f) => [...fs.readFileSync(path.join(SQL_DIR, f), "utf8").matchAll(/\$\{kafka\.(?:rawSource|changelogSink):([\w.-]+)/g)].map((m) => m[1]));
    expect(used.length).toBeGreaterThan(5);
    for (const t of used) expect(declared.has(t)).toBe(true);
  });
});

describe("sinks of the stacks", () => {
  const sr = { jdbcUrl: "jdbc:mysql://starrocks-fe:9030", loadUrl: "starrocks-fe:8030", user: "root", database: "dws" };
  const sinks = stackSinks(sr, { jdbcUrl: "jdbc:postgresql://pg:5432/rtdw_quality", user: "rtdw_quality_app" });

  it("covers every ${sink:...} of the SQL, and nothing else", () => {
    expect(Object.keys(sinks).sort()).toEqual(sinkTablesInSql());
  });

  it("loads each DWS table into its StarRocks table exactly once, password left as a secret", () => {
    expect(starrocksDwsTables()).toEqual(["dws_trade_daily", "dws_product_daily", "dws_trk_event_hourly", "dws_trk_event_daily", "dws_trk_funnel_daily"]);
    for (const t of starrocksDwsTables()) {
      expect(sinks[t]).toMatchObject({ connector: "starrocks", "table-name": t, "database-name": "dws", "sink.semantic": "exactly-once", "sink.label-prefix": `rtdw_${t}`, password: "${secret:starrocks.password}" });
    }
    expect(new Set(starrocksDwsTables().map((t) => sinks[t]["sink.label-prefix"])).size).toBe(starrocksDwsTables().length);
  });

  it("writes the quality results to PostgreSQL", () => {
    expect(sinks.dq_table_quality).toMatchObject({ connector: "jdbc", url: "jdbc:postgresql://pg:5432/rtdw_quality", password: "${secret:quality.password}" });
  });

  it("renders the DWS job with the StarRocks options and no credential", () => {
    const sql = renderSql(readJobSql({ sql: "warehouse/dws_aggregate.sql" }), { ...ENV, sinks });
    expect(sql).toContain("'connector' = 'starrocks'");
    expect(secretsUsed(sql)).toContain("starrocks.password");
  });
});

describe("one writer per table", () => {
  it("no table is the target of two INSERTs (writers of one Paimon table compact it concurrently and their commits conflict)", () => {
    const writers = new Map<string, string[]>();
    for (const job of loadJobTable()) {
      for (const m of readJobSql(job).matchAll(/INSERT\s+INTO\s+([\w.]+)/gi)) writers.set(m[1], [...(writers.get(m[1]) ?? []), job.name]);
    }
    expect(writers.size).toBeGreaterThan(15);
    expect([...writers].filter(([, jobs]) => jobs.length > 1)).toEqual([]);
  });
});

describe("streaming reads of Paimon tables", () => {
  it("every read of a Paimon table by a job registers a consumer-id, one per job, table and read, so a stopped job's snapshot is not expired under it", () => {
    const reads: { job: string; table: string; consumer?: string }[] = [];
    for (const job of loadJobTable()) {
      const sql = readJobSql(job).replace(/--[^\n]*/g, "");
      for (const m of sql.matchAll(/\b(?:FROM|JOIN)\s+((?:ods|dwd|dq)\.\w+)(\s*\/\*\+\s*OPTIONS\(([^)]*)\)\s*\*\/)?/gi)) {
        reads.push({ job: job.name, table: m[1], consumer: /'consumer-id'\s*=\s*'([^']+)'/.exec(m[3] ?? "")?.[1] });
      }
    }
    expect(reads.length).toBeGreaterThanOrEqual(15);
    expect(reads.filter((r) => !r.consumer)).toEqual([]);
    // Two readers of one table under one id would overwrite each other's progress.
    const keys = reads.map((r) => `${r.table} ${r.consumer}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    // And an id belongs to one job.
    const owner = new Map<string, string>();
    for (const r of reads) expect(owner.get(r.consumer!) ?? (owner.set(r.consumer!, r.job), r.job)).toBe(r.job);
  });

  it("the catalog expires a consumer that no job advanced for a week, so an abandoned one does not keep snapshots forever", () => {
    expect(fs.readFileSync(path.join(SQL_DIR, "catalog.sql"), "utf8")).toContain("'table-default.consumer.expiration-time' = '7 d'");
  });
});

describe("placeholders are expanded only where the SQL names them", () => {
  it("a config value holding ${secret:…} is refused at render time, naming the value", () => {
    const env = { ...ENV, mysql: { ...ENV.mysql, user: "${secret:starrocks.password}" } };
    expect(() => renderSql("SELECT '${mysql.user}'", env, "probe.sql")).toThrow('probe.sql: mysql.user holds "${": placeholders are only expanded where the SQL names them');
  });
});
