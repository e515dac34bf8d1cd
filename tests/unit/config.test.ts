import { configErrorOf } from "../helpers/config";
import { DEFAULT_SIZING, parseStackConfig, PROFILES, SECRET_KEYS, sizingTotals } from "../../components/config";

// Kubernetes stacks push the images they build, so a registry is part of every non-dev test config;
// every stack names the business MySQL it captures (dev has a default) and its password.
const SOURCE = JSON.stringify({ host: "mysql.shop.svc", database: "shop", user: "rtdw_cdc" });
const WEBHOOKS = JSON.stringify({ ops: "https://hooks.example.com/ops", business: "https://hooks.example.com/b", data: "https://hooks.example.com/d", infra: "https://hooks.example.com/i" });
const parse = (stack: string, values: Record<string, string>, secret: string[] = []) =>
  parseStackConfig(
    "rtdw",
    stack,
    Object.fromEntries(
      Object.entries({
        sourcePassword: "source-password-0001",
        ...(stack === "dev" ? {} : { imageRegistry: "registry.example.com/rtdw", source: SOURCE }),
        // Prod refuses to run without GeoIP unless told (tests/unit/geoip.test.ts).
        ...(stack === "prod" ? { alertWebhooks: WEBHOOKS, collector: JSON.stringify({ geoip: "off" }) } : {}),
        ...values,
      })
        .filter(([, v]) => v !== "<unset>")
        .map(([k, v]) => [`rtdw:${k}`, v]),
    ),
    new Set([...secret, "sourcePassword", "alertWebhooks"].map((k) => `rtdw:${k}`)),
  );

const errorOf = configErrorOf;

describe("stack config", () => {
  it("fills per-profile defaults from the stack name", () => {
    const dev = parse("dev", {});
    expect(dev.profile).toBe("dev");
    expect(dev.target).toBe("docker");
    expect(dev.objectStore.kind).toBe("minio");
    expect(dev.protectStateful).toBe(false);
    const prod = parse("prod", {});
    expect(prod.target).toBe("kubernetes");
    expect(prod.objectStore.kind).toBe("s3");
    expect(prod.protectStateful).toBe(true);
    expect(prod.sizing.kafka.replicas).toBe(3);
    expect(prod.sizing.starrocksFe.replicas).toBe(3);
  });

  it("reads the collector's limits (rtdw:collector) with generous defaults, and names what is wrong", () => {
    expect(parse("dev", {}).collector).toEqual({ maxBodyKiB: 1024, maxDecompressedKiB: 32768, maxEventsPerBatch: 1000, requestsPerSecond: 100, burst: 400, connectionsPerClient: 64 });
    expect(parse("prod", { collector: JSON.stringify({ maxBody: "512Ki", requestsPerSecond: 20, burst: 0, geoip: "off" }) }).collector).toMatchObject({ maxBodyKiB: 512, requestsPerSecond: 20, burst: 0 });
    expect(() => parse("dev", { collector: JSON.stringify({ maxDecompressed: "2Mi" }) })).toThrow(
      "rtdw:collector.maxDecompressed: 2048 KiB lets no gzip batch over 2032 bytes through (deflate may expand 1032x); use at least 4Mi",
    );
    expect(() => parse("dev", { collector: JSON.stringify({ maxBody: "128Mi" }) })).toThrow("rtdw:collector.maxBody: expected a body size from 64Ki to 64Mi");
    expect(() => parse("dev", { collector: JSON.stringify({ maxBody: "lots" }) })).toThrow('rtdw:collector.maxBody: expected a memory quantity such as "512Mi" or "2Gi"');
    expect(() => parse("dev", { collector: JSON.stringify({ ratePerSecond: 5 }) })).toThrow("rtdw:collector.ratePerSecond: unknown setting");
    expect(parse("dev", { collector: JSON.stringify({ archiveDays: 7 }) }).archiveDays).toBe(7);
    expect(parse("dev", {}).archiveDays).toBe(30);
    expect(() => parse("dev", { collector: JSON.stringify({ archiveDays: 0 }) })).toThrow("rtdw:collector.archiveDays: expected at least 1 day");
    expect(() => parse("dev", { volumes: JSON.stringify({ vector: "1Gi" }) })).toThrow("rtdw:volumes.vector: 1Gi cannot hold Vector's disk buffers");
  });

  it("applies sizing overrides given as Kubernetes quantities", () => {
    const c = parse("test", { sizing: JSON.stringify({ kafka: { memory: "3Gi", cpuRequest: "750m", cpuLimit: 2 } }) });
    expect(c.sizing.kafka).toEqual({ replicas: 3, cpuRequest: 0.75, cpuLimit: 2, memoryMiB: 3072, ephemeralMiB: 1024 });
    expect(c.sizing.postgres).toEqual(DEFAULT_SIZING.test.postgres);
  });

  // Each documented config error, with the message it promises (README "Config errors").
  const cases: [string, string, Record<string, string>, RegExp][] = [
    ["unknown target", "dev", { target: "swarm" }, /rtdw:target: expected "docker" \(local Docker engine\), "kubernetes" or "sandbox"/],
    ["StreamPark on the sandbox, which has none", "dev", { target: "sandbox", jobBackend: "streampark" }, /rtdw:jobBackend: "streampark" needs the StreamPark the stack deploys; the sandbox's platform has none/],
    ["unknown profile for a custom stack", "staging", {}, /rtdw:profile: stack "staging" is not one of dev, test, prod/],
    ["bad memory quantity", "dev", { sizing: JSON.stringify({ kafka: { memory: "12 gigs" } }) }, /rtdw:sizing\.kafka\.memory: expected a memory quantity such as "512Mi" or "2Gi"/],
    ["bad cpu quantity", "dev", { sizing: JSON.stringify({ redis: { cpuLimit: "fast" } }) }, /rtdw:sizing\.redis\.cpuLimit: expected a CPU quantity/],
    ["unknown service in sizing", "dev", { sizing: JSON.stringify({ kafak: { memory: "1Gi" } }) }, /rtdw:sizing\.kafak: unknown service "kafak" \(known: minio, postgres/],
    ["limit below request", "test", { sizing: JSON.stringify({ redis: { cpuRequest: 2, cpuLimit: 1 } }) }, /rtdw:sizing\.redis: cpuLimit \(1\) is below cpuRequest \(2\)/],
    ["replicas on docker", "dev", { sizing: JSON.stringify({ kafka: { replicas: 3 } }) }, /rtdw:sizing\.kafka\.replicas: the docker target runs one container per service/],
    ["prod without alert receivers", "prod", { alertWebhooks: "<unset>" }, /rtdw:alertWebhooks: required on prod: where each team's alerts go/],
    ["alert receivers not JSON", "test", { alertWebhooks: "ops=https://h" }, /rtdw:alertWebhooks: expected a JSON object/],
    ["alert receiver for an unknown team", "test", { alertWebhooks: '{"sales": "https://h/s"}' }, /rtdw:alertWebhooks: \(value\): unknown team sales \(teams: ops, business, data, infra\)/],
    ["alert receiver not a URL", "test", { alertWebhooks: '{"ops": "hooks.example.com"}' }, /rtdw:alertWebhooks: ops: expected an http\(s\) URL/],
    ["zero replicas", "prod", { sizing: JSON.stringify({ kafka: { replicas: 0 } }) }, /rtdw:sizing\.kafka\.replicas: expected a whole number of replicas, at least 1/],
    ["bad namespace", "test", { namespace: "RTDW_Test" }, /rtdw:namespace: expected a Kubernetes namespace name/],
    ["bad bucket prefix", "prod", { bucketPrefix: "My_Bucket" }, /rtdw:bucketPrefix: expected 3-40 lower-case letters/],
    ["bad region", "prod", { awsRegion: "Frankfurt" }, /rtdw:awsRegion: expected an AWS region such as "eu-central-1"/],
    ["retention not a number", "prod", { savepointRetentionDays: "a month" }, /rtdw:savepointRetentionDays: expected a number, got "a month"/],
    ["misspelt key", "dev", { objectstore: "s3" }, /rtdw:objectstore: unknown setting/],
    ["retired key", "dev", { kafkaPassword: "correct-horse-battery-staple" }, /rtdw:kafkaPassword: retired: Kafka clients no longer share a user; each has its own generated SCRAM user\. Remove it \(`pulumi config rm kafkaPassword`\); to choose the super user's password set kafkaAdminPassword/],
    ["password in plaintext", "prod", { redisPassword: "correct-horse-battery-staple" }, /rtdw:redisPassword: stored in plaintext; set it with `pulumi config set --secret redisPassword <value>`/],
    ["short password", "prod", { postgresPassword: "short" }, /rtdw:postgresPassword: expected at least 16 characters/],
    ["no source database on a cluster stack", "prod", { source: "<unset>" }, /rtdw:source: required: the business MySQL the CDC job captures/],
    ["no source password", "dev", { sourcePassword: "<unset>" }, /rtdw:sourcePassword: required: the password of rtdw:source\.user; set it with `pulumi config set --secret sourcePassword <value>`/],
    ["source without a user", "test", { source: JSON.stringify({ host: "mysql", database: "shop" }) }, /rtdw:source\.user: /],
    ["unknown time zone", "dev", { timeZone: "Asia/Beijing" }, /rtdw:timeZone: expected a time zone Flink accepts: a TZDB region such as "Asia\/Shanghai"/],
    ["a time-zone abbreviation Flink refuses", "dev", { timeZone: "EST" }, /rtdw:timeZone: expected a time zone Flink accepts: .*abbreviations such as "EST" or "CST" are refused by Flink/],
    ["a time zone in the wrong case", "dev", { timeZone: "utc" }, /rtdw:timeZone: expected a time zone Flink accepts/],
    ["a time zone spelt in lower case", "dev", { timeZone: "asia/shanghai" }, /rtdw:timeZone: expected a time zone Flink accepts/],
    ["prod alerts that page nobody", "prod", { alertWebhooks: "{}" }, /rtdw:alertWebhooks: on prod every team that owns alerts needs a webhook, or its alerts page nobody; missing: ops, business, data, infra/],
    ["prod alerts missing a team", "prod", { alertWebhooks: '{"ops": "https://h/o", "business": "https://h/b", "data": "https://h/d"}' }, /missing: infra \(owners: ops, business, data, infra\)/],
    ["a password with a double quote", "prod", { postgresPassword: 'abcdefgh"ijklmnopq' }, /rtdw:postgresPassword: may only hold letters, digits and \. _ ~ ! @ % \^ \* \+ = , : - \(a quote, backslash, \$, #, ;, space or line break would break the files and statements it is written into\)/],
    ["a password with a line break", "prod", { postgresPassword: "abcdefghijkl\nmnopq" }, /rtdw:postgresPassword: may only hold letters/],
    ["a password with a single quote", "prod", { postgresPassword: "abcdefgh'ijklmnopq" }, /rtdw:postgresPassword: may only hold letters/],
    ["a source password with a line break", "dev", { sourcePassword: "pass\nword" }, /rtdw:sourcePassword: contains a character the CDC job cannot carry/],
    ["a placeholder as the source user", "test", { source: JSON.stringify({ host: "mysql", database: "shop", user: "${secret:starrocks.password}" }) }, /rtdw:source\.user: expected a MySQL user name of letters, digits and _ \. @ -/],
    ["a source host with a quote", "test", { source: JSON.stringify({ host: "mysql' OR", database: "shop", user: "cdc" }) }, /rtdw:source\.host: expected a host name or IP address/],
  ];
  it.each(cases)("rejects %s with a message naming the key", (_what, stack, values, message) => {
    const secret = ["postgresPassword", "sourcePassword", "alertWebhooks"].filter((k) => k in values);
    expect(errorOf(() => parse(stack, values, secret))).toMatch(message);
  });

  it("reports every problem at once", () => {
    const msg = errorOf(() => parse("dev", { namespace: "Bad!", awsRegion: "nowhere" }));
    expect(msg).toMatch(/rtdw:namespace/);
    expect(msg).toMatch(/rtdw:awsRegion/);
  });
});

describe("sizing budgets", () => {
  it.each(PROFILES)("%s totals are computed over every replica", (profile) => {
    const t = sizingTotals(parse(profile, {}).sizing);
    expect(t.memoryMiB).toBeGreaterThan(0);
    expect(t.cpuLimit).toBeGreaterThanOrEqual(t.cpuRequest);
  });

  it("dev fits the documented laptop with room to spare: <= 10 GiB memory limits, <= 4 cores requested", () => {
    const t = sizingTotals(parse("dev", {}).sizing);
    expect(t.memoryMiB).toBeLessThanOrEqual(10 * 1024);
    expect(t.cpuRequest).toBeLessThanOrEqual(4);
  });

  it("a dev override that breaks the budget is caught by the same check", () => {
    const t = sizingTotals(parse("dev", { sizing: JSON.stringify({ starrocksCn: { memory: "4Gi" } }) }).sizing);
    expect(t.memoryMiB).toBeGreaterThan(10 * 1024);
  });

  it("prod follows the documented targets", () => {
    const s = parse("prod", {}).sizing;
    expect(s.starrocksFe).toMatchObject({ replicas: 3, cpuLimit: 8, memoryMiB: 16384 });
    expect(s.starrocksCn).toMatchObject({ cpuLimit: 16, memoryMiB: 65536 });
    expect(s.kafka.replicas).toBe(3);
    expect(s.flinkJobManager.replicas).toBeGreaterThanOrEqual(2);
  });
});

describe("Pulumi.yaml", () => {
  it("declares only keys with a default, each described, and docs/configuration.md documents every key the schema accepts", () => {
    const fs = require("fs") as typeof import("fs");
    const YAML = require("yaml") as typeof import("yaml");
    const { rawConfigSchema } = require("../../components/config/schema") as typeof import("../../components/config/schema");
    // The Pulumi CLI refuses to run a stack that lacks a declared key without a default ("Stack 'local'
    // is missing configuration values ..."), found by running the real engine: optional keys without a
    // static default, and every secret (a default would be plaintext), stay undeclared.
    const declared = YAML.parse(fs.readFileSync(require("path").join(__dirname, "../../Pulumi.yaml"), "utf8")).config as Record<string, { secret?: boolean; description?: string; default?: unknown }>;
    const keys = Object.keys(rawConfigSchema.shape);
    for (const [k, v] of Object.entries(declared)) {
      expect({ k, known: keys.includes(k), hasDefault: v.default !== undefined, described: (v.description ?? "").length > 20 }).toEqual({ k, known: true, hasDefault: true, described: true });
      expect({ k, secret: (SECRET_KEYS as readonly string[]).includes(k) }).toEqual({ k, secret: false });
    }
    const readme = fs.readFileSync(require("path").join(__dirname, "../../docs/configuration.md"), "utf8");
    for (const k of keys) expect({ k, documented: readme.includes(`| \`${k}\` |`) }).toEqual({ k, documented: true });
  });
});

describe("the stack files", () => {
  it.each(["dev", "test", "prod"])("Pulumi.%s.yaml is a valid configuration once its secrets are set (the source password; prod: the alert receivers) and prod's GeoIP database is fetched", (stack) => {
    const fs = require("fs") as typeof import("fs");
    const YAML = require("yaml") as typeof import("yaml");
    const file = YAML.parse(fs.readFileSync(require("path").join(__dirname, `../../Pulumi.${stack}.yaml`), "utf8")).config as Record<string, unknown>;
    // As the CLI hands them to the program: Pulumi.yaml's declared defaults, then the stack file.
    const declared = YAML.parse(fs.readFileSync(require("path").join(__dirname, "../../Pulumi.yaml"), "utf8")).config as Record<string, { default: unknown }>;
    const defaults = Object.fromEntries(Object.entries(declared).map(([k, v]) => [`rtdw:${k}`, v.default]));
    const values = Object.fromEntries(Object.entries({ ...defaults, ...file }).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    const secrets = { "rtdw:sourcePassword": "from-the-operator", ...(stack === "prod" ? { "rtdw:alertWebhooks": WEBHOOKS } : {}) };
    // Prod names the operator's GeoLite2 database (licensed, never in the repository): valid once it is there.
    const cfg = parseStackConfig("rtdw", stack, { ...values, ...secrets }, new Set(Object.keys(secrets)), undefined, stack !== "prod");
    expect(cfg.source.database).toBe("shop");
    if (stack === "prod") expect(() => parseStackConfig("rtdw", stack, { ...values, ...secrets }, new Set(Object.keys(secrets)))).toThrow(/rtdw:collector\.geoip\.path: cannot read .*\/geoip\/GeoLite2-City\.mmdb: ENOENT/);
    // Without them, preview stops before anything is created and says what to do.
    expect(() => parseStackConfig("rtdw", stack, values)).toThrow("rtdw:sourcePassword: required");
    if (stack === "prod") expect(() => parseStackConfig("rtdw", stack, { ...values, "rtdw:sourcePassword": "x" }, new Set(["rtdw:sourcePassword"]))).toThrow("rtdw:alertWebhooks: required on prod");
  });
});

describe("config values that would break or leak at run time", () => {
  const { flinkTimeZone } = require("../../components/config/schema") as typeof import("../../components/config/schema");
  it("time zones: what Flink's validateTimeZone accepts passes, abbreviations and wrong case do not", () => {
    for (const ok of ["Asia/Shanghai", "America/Los_Angeles", "Europe/Berlin", "UTC", "GMT", "GMT+08:00", "GMT-03:30", "America/Argentina/Buenos_Aires"]) expect({ ok, valid: flinkTimeZone(ok) }).toEqual({ ok, valid: true });
    for (const bad of ["EST", "CST", "PST", "utc", "Z", "UTC+8", "GMT+8", "asia/shanghai", "Asia/Beijing", "Shanghai", ""]) expect({ bad, valid: flinkTimeZone(bad) }).toEqual({ bad, valid: false });
  });
});

describe("replica counts and images that would break a deploy or its fault tolerance fail preview, all at once", () => {
  it("names every problem with its key: single-instance services scaled, even quorums, prod below a quorum of 3, unpinned images", () => {
    const msg = errorOf(() =>
      parse("prod", {
        sizing: JSON.stringify({ postgres: { replicas: 2 }, alertmanager: { replicas: 2 }, kafka: { replicas: 2 }, starrocksFe: { replicas: 1 }, flinkJobManager: { replicas: 1 } }),
        images: JSON.stringify({ grafana: "grafana/grafana", redis: "redis:latest", vector: "registry.example.com:5000/vector", nginx: "nginx@sha256:" + "a".repeat(64), flink: "registry.example.com:5000/flink:1.20.3" }),
      }),
    );
    expect(msg.split("\n").filter((l) => l.startsWith("  - "))).toEqual([
      "  - rtdw:sizing.postgres.replicas: 2 is not supported: PostgreSQL runs one primary without streaming replication: more replicas would be independent databases behind one Service; use 1",
      "  - rtdw:sizing.alertmanager.replicas: 2 is not supported: Alertmanager runs without gossip clustering: each replica would send every notification; use 1",
      "  - rtdw:sizing.kafka.replicas: 2 is even: every Kafka node is a KRaft controller, and 2 tolerate no more failures than 1 (a majority of 2 is 2); use 1 or 3",
      "  - rtdw:sizing.starrocksFe.replicas: 1 on prod: StarRocks FEs elect their leader by majority, and fewer than 3 tolerate no failure (Kafka: replication factor 2); use 3 or more, or another profile",
      "  - rtdw:sizing.flinkJobManager.replicas: 1 on prod: a JobManager's restart would stop every job until it is back; use 2 (Kubernetes HA, a standby takes over)",
      '  - rtdw:images.grafana: "grafana/grafana" has no tag: pin a version (e.g. "grafana/grafana:<version>") or a digest (@sha256:…)',
      '  - rtdw:images.redis: "redis:latest" pins nothing (latest moves): use a version tag or a digest (@sha256:…)',
      '  - rtdw:images.vector: "registry.example.com:5000/vector" has no tag: pin a version (e.g. "registry.example.com:5000/vector:<version>") or a digest (@sha256:…)',
    ]);
  });

  it("the shipped stacks and a test stack scaled the supported ways pass", () => {
    for (const stack of ["test", "prod"]) expect(() => parse(stack, {})).not.toThrow();
    const scaled = parse("test", { sizing: JSON.stringify({ kafka: { replicas: 5 }, starrocksFe: { replicas: 1 }, starrocksCn: { replicas: 4 }, nginx: { replicas: 4 }, vector: { replicas: 3 } }) });
    expect([scaled.sizing.kafka.replicas, scaled.sizing.starrocksFe.replicas, scaled.sizing.starrocksCn.replicas]).toEqual([5, 1, 4]);
  });
});

describe("passwords derived from rtdw:credentialSeed", () => {
  const { derivePassword } = require("../../components/config/secrets") as typeof import("../../components/config/secrets");
  it("are stable for a seed and a name, unrelated across names and seeds, 32 alphanumeric characters", () => {
    const a = derivePassword("s".repeat(32), "postgres-admin-password");
    expect(a).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(derivePassword("s".repeat(32), "postgres-admin-password")).toBe(a);
    expect(derivePassword("s".repeat(32), "redis-password")).not.toBe(a);
    expect(derivePassword("t".repeat(32), "postgres-admin-password")).not.toBe(a);
  });
});
