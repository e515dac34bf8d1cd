import { z } from "zod";
import { parseCpu, parseMemoryMiB } from "./quantities";
import { parsePaimonDuration } from "./lakehousePolicy";
import { PUBLISHED_PORT_KEYS } from "./hostPorts";
import { TEAMS } from "./teams";
import { BUILT_IMAGES, IMAGES, PROFILES, SERVICES, TOPIC_CLASSES, VOLUMES } from "./services";
import { GEOIP_LOCALES } from "./geoip";

/**
 * The raw shape of the project's stack config (the `rtdw:` namespace), as a schema. Every key is
 * optional here; per-profile defaults are filled in afterwards (see index.ts). Messages are written
 * for the person who typed the value: they say what is allowed.
 */

const cpu = z
  .union([z.string(), z.number()])
  .refine((v) => parseCpu(v) !== undefined, { message: 'expected a CPU quantity such as "250m", "0.5" or 2' });
const memory = z
  .union([z.string(), z.number()])
  .refine((v) => parseMemoryMiB(v) !== undefined, { message: 'expected a memory quantity such as "512Mi" or "2Gi"' });

/** A memory quantity within [minMiB, maxMiB]; an unparsable one is reported by `memory` itself. */
const inRange = (v: string | number, minMiB: number, maxMiB: number) => {
  const m = parseMemoryMiB(v);
  return m === undefined || (m >= minMiB && m <= maxMiB);
};

/** A duration as Paimon spells it: "90 d", "1 h", "30 min". */
const paimonDuration = z.string().refine((v) => parsePaimonDuration(v) !== undefined, { message: 'expected a duration such as "7 d", "1 h" or "30 min"' });
/** Whole days: "90 d". */
const days = z.string().refine((v) => /^\d+\s*d$/.test(v.trim()), { message: 'expected whole days such as "90 d"' });

const sizingOverride = z.strictObject({
  replicas: z.number().int().min(1, { message: "expected a whole number of replicas, at least 1" }).max(50).optional(),
  cpuRequest: cpu.optional(),
  cpuLimit: cpu.optional(),
  memory: memory.optional(),
  ephemeralStorage: memory.optional(),
});

/** A strict record: unknown keys are named in the error with the list of allowed ones. */
function knownKeys<T extends z.ZodType>(allowed: readonly string[], value: T, what: string) {
  return z.record(z.string(), value).superRefine((rec, ctx) => {
    for (const key of Object.keys(rec)) {
      if (!allowed.includes(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: `unknown ${what} "${key}" (known: ${allowed.join(", ")})` });
      }
    }
  });
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The characters a platform password may hold. It is written into files and statements of several
 * syntaxes (Kafka's JAAS file, redis.conf, SQL, StarRocks' SET PASSWORD, environment files): outside
 * this alphabet a quote, backslash, "$", "#", ";", space or line break would end or change them.
 */
export const PASSWORD_ALPHABET = /^[A-Za-z0-9._~!@%^*+=,:-]+$/;

function platformPassword() {
  return z
    .string()
    .min(16, { message: "expected at least 16 characters" })
    .regex(PASSWORD_ALPHABET, { message: "may only hold letters, digits and . _ ~ ! @ % ^ * + = , : - (a quote, backslash, $, #, ;, space or line break would break the files and statements it is written into)" })
    .optional();
}

/** Java's short zone ids (ZoneId.SHORT_IDS): java.util.TimeZone maps them to offsets, so Flink refuses them. */
const SHORT_IDS = new Set(["ACT", "AET", "AGT", "ART", "AST", "BET", "BST", "CAT", "CNT", "CST", "CTT", "EAT", "ECT", "IET", "IST", "JST", "MIT", "NET", "NST", "PLT", "PNT", "PRT", "PST", "SST", "VST", "EST", "MST", "HST"]);

/**
 * A time zone Flink 1.20 accepts for table.local-time-zone: it requires java.util.TimeZone and
 * java.time.ZoneId to agree (TableConfigValidation.validateTimeZone). That holds for "UTC", "GMT",
 * "GMT±hh:mm" and TZDB region ids spelt exactly (ZoneId.of is case-sensitive), not for "utc", "Z",
 * "UTC+8" or the short ids such as "EST" and "CST".
 */
export function flinkTimeZone(tz: string): boolean {
  if (tz === "UTC" || tz === "GMT" || /^GMT[+-]([01]\d|2[0-3]):[0-5]\d$/.test(tz)) return true;
  if (SHORT_IDS.has(tz) || !/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)+$/.test(tz)) return false;
  // Java wants the TZDB spelling (each part capitalised, "Etc/GMT+8" style); ICU accepts any case.
  if (!tz.split("/").every((part) => /^[A-Z0-9]/.test(part))) return false;
  try {
    const resolved = new Intl.DateTimeFormat("en", { timeZone: tz }).resolvedOptions().timeZone;
    // An exact id, or a TZDB alias ICU resolves to another name (America/Argentina/Buenos_Aires); not a case variant.
    return resolved === tz || resolved.toLowerCase() !== tz.toLowerCase();
  } catch {
    return false;
  }
}

export const rawConfigSchema = z.strictObject({
  target: z
    .enum(["docker", "kubernetes", "sandbox"], { message: 'expected "docker" (local Docker engine), "kubernetes" or "sandbox" (the local sandbox\'s running services)' })
    .optional(),
  platformFile: z.string().min(1).optional(),
  profile: z.enum(PROFILES, { message: `expected one of ${PROFILES.join(", ")}` }).optional(),
  namespace: z
    .string()
    .max(63)
    .regex(dnsLabel, { message: "expected a Kubernetes namespace name: lower-case letters, digits and '-', at most 63" })
    .optional(),
  kubernetesContext: z.string().min(1).optional(),
  storageClass: z.string().min(1).optional(),
  objectStore: z.enum(["minio", "s3"], { message: 'expected "minio" (in-cluster) or "s3" (AWS)' }).optional(),
  awsRegion: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'expected an AWS region such as "eu-central-1"' })
    .optional(),
  bucketPrefix: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/, {
      message: "expected 3-40 lower-case letters, digits or '-' (it prefixes S3 bucket names)",
    })
    .optional(),
  savepointRetentionDays: z.number().int().min(1).max(3650).optional(),
  protectStateful: z.boolean().optional(),
  sizing: knownKeys(SERVICES, sizingOverride, "service").optional(),
  volumes: knownKeys(VOLUMES, memory, "volume").optional(),
  hostPorts: knownKeys(PUBLISHED_PORT_KEYS, z.number().int().min(1024, { message: "expected an unprivileged port, 1024-65535" }).max(65535, { message: "expected a port up to 65535" }), "published port").optional(),
  images: knownKeys(Object.keys(IMAGES), z.string().regex(/^[\w./:@-]+$/, { message: "expected an image reference" }), "image").optional(),
  flink: z
    .strictObject({
      maxParallelism: z.number().int().min(1).max(256).optional(),
      memoryScale: z.number().gt(0).max(4, { message: "expected a factor in (0, 4]" }).optional(),
      slotsPerTaskManager: z.number().int().min(1).max(64).optional(),
      spareSlots: z.number().int().min(0).max(256).optional(),
      checkpointIntervalMs: z.number().int().min(1000, { message: "expected at least 1000 ms" }).max(3600000).optional(),
      clusters: z.enum(["per-job", "shared"], { message: 'expected "per-job" (a session cluster for each job) or "shared" (one for all)' }).optional(),
    })
    .optional(),
  postgresBackups: z
    .strictObject({
      retentionFull: z.number().int().min(1, { message: "expected at least one full backup kept" }).max(100).optional(),
      fullEveryDays: z.number().int().min(1).max(90).optional(),
      diffEveryHours: z.number().int().min(1).max(24 * 90).optional(),
      archiveTimeoutSeconds: z.number().int().min(30, { message: "expected at least 30 s (each switch archives a whole 16 MB segment)" }).max(3600, { message: "expected at most 3600 s: this bounds how much committed catalog data a lost volume loses" }).optional(),
    })
    .optional(),
  lakehouse: z
    .strictObject({
      retention: z.strictObject({ ods: days.optional(), dwd: days.optional(), rejects: days.optional() }).optional(),
      snapshots: z
        .strictObject({
          retainMin: z.number().int().min(1, { message: "expected at least 1" }).max(10000).optional(),
          retainMax: z.number().int().min(1, { message: "expected at least 1" }).max(100000).optional(),
          timeRetained: paimonDuration.optional(),
        })
        .optional(),
      consumerExpiration: paimonDuration.optional(),
      orphanFiles: z.strictObject({ every: paimonDuration.optional(), olderThan: paimonDuration.optional() }).optional(),
      materializedViewRefresh: paimonDuration.optional(),
    })
    .optional(),
  collector: z
    .strictObject({
      maxBody: memory.refine((v) => inRange(v, 1 / 16, 64), { message: "expected a body size from 64Ki to 64Mi" }).optional(),
      maxDecompressed: memory.refine((v) => inRange(v, 0, 1024), { message: "expected at most 1Gi" }).optional(),
      maxEventsPerBatch: z.number().int().min(1).max(100000).optional(),
      requestsPerSecond: z.number().int().min(1).max(1000000).optional(),
      burst: z.number().int().min(0).max(1000000).optional(),
      connectionsPerClient: z.number().int().min(1).max(100000).optional(),
      archiveDays: z.number().int().min(1, { message: "expected at least 1 day" }).max(3650).optional(),
      // "off", or the City database: read as an object so a wrong field is named, not the whole union.
      geoip: z
        .preprocess(
          (v) => (v === "off" ? { off: true } : v),
          z
            .strictObject(
              {
                off: z.literal(true).optional(),
                path: z.string().min(1, { message: "expected the path of a GeoLite2/GeoIP2 City .mmdb file" }).optional(),
                locale: z.enum(GEOIP_LOCALES, { message: `expected one of ${GEOIP_LOCALES.join(", ")}` }).optional(),
              },
              { error: 'expected {"path": "<City .mmdb file>", "locale": "zh-CN"} or "off"' },
            )
            .refine((g) => (g.off === true) !== (g.path !== undefined), { message: 'expected either a "path" or "off"' }),
        )
        .transform((g) => (g.off ? ("off" as const) : { path: g.path!, ...(g.locale ? { locale: g.locale } : {}) }))
        .optional(),
    })
    .optional(),
  kafkaTopics: knownKeys(
    TOPIC_CLASSES,
    z.strictObject({
      partitions: z.number().int().min(1).max(1000).optional(),
      retentionHours: z.number().int().min(1).max(24 * 365).optional(),
    }),
    "topic class",
  ).optional(),
  imageRegistry: z
    .string()
    .regex(/^[\w.-]+(:\d+)?(\/[\w.-]+)*$/, { message: 'expected a registry and path such as "registry.example.com/rtdw"' })
    .optional(),
  jobBackend: z.enum(["sql-gateway", "streampark"], { message: 'expected "sql-gateway" or "streampark"' }).optional(),
  alertEvaluator: z.enum(["prometheus", "grafana"], { message: 'expected "prometheus" or "grafana"' }).optional(),
  timeZone: z
    .string()
    .refine(flinkTimeZone, { message: 'expected a time zone Flink accepts: a TZDB region such as "Asia/Shanghai" (exact spelling), "UTC", or a fixed offset such as "GMT+08:00"; abbreviations such as "EST" or "CST" are refused by Flink' })
    .optional(),
  source: z
    .strictObject({
      host: z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, { message: "expected a host name or IP address" }),
      port: z.number().int().min(1).max(65535).optional(),
      database: z.string().regex(/^\w+$/, { message: "expected a database name" }),
      user: z.string().regex(/^[A-Za-z0-9_.@-]{1,80}$/, { message: "expected a MySQL user name of letters, digits and _ . @ -" }),
    })
    .optional(),
  // The business database's password is not ours to choose: anything the job SQL can carry is accepted.
  sourcePassword: z
    .string()
    .min(1)
    .refine((v) => !/["\\$\x00-\x1f\x7f]/.test(v), { message: 'contains a character the CDC job cannot carry (a double quote, backslash, "$" or a control character such as a line break)' })
    .optional(),
  // A secret (webhook URLs carry tokens): a JSON object, team -> URL.
  alertWebhooks: z
    .string()
    .transform((text, ctx) => {
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        ctx.addIssue({ code: "custom", message: 'expected a JSON object such as {"ops": "https://hooks.example.com/ops"}' });
        return z.NEVER;
      }
      const teams = TEAMS;
      const r = z.strictObject(Object.fromEntries(teams.map((t) => [t, z.url({ protocol: /^https?$/, message: "expected an http(s) URL" }).optional()]))).safeParse(v);
      if (!r.success) {
        for (const i of r.error.issues) ctx.addIssue({ code: "custom", message: `${i.path.join(".") || "(value)"}: ${i.code === "unrecognized_keys" ? `unknown team ${i.keys.join(", ")} (teams: ${teams.join(", ")})` : i.message}` });
        return z.NEVER;
      }
      return r.data as Partial<Record<"ops" | "business" | "data" | "infra", string>>;
    })
    .optional(),
  jobRestartNonces: z.record(z.string(), z.number().int().min(0, { message: "expected a whole number" })).optional(),
  // Secrets: length and alphabet validated here; values stay Pulumi secrets (see index.ts).
  postgresPassword: platformPassword(),
  redisPassword: platformPassword(),
  minioRootPassword: platformPassword(),
  /** The Kafka super user (brokers, admin tasks); clients have generated SCRAM users of their own. */
  kafkaAdminPassword: platformPassword(),
  starrocksRootPassword: platformPassword(),
  streamparkAdminPassword: platformPassword(),
  /** The root password being replaced, for one `up`: the bootstrap logs in with it and sets the new one. */
  starrocksRootPasswordPrevious: platformPassword(),
  /** Encrypts PostgreSQL's backups: keep a copy outside the stack, a restore needs it. */
  postgresBackupCipher: platformPassword(),
  /**
   * Every generated password is derived from this (HMAC-SHA256 per password name) instead of drawn at
   * random into the state: a rebuild with a new state finds the passwords the volumes were initialised with.
   */
  credentialSeed: z.string().min(32, { message: "expected at least 32 characters (it derives every generated password)" }).optional(),
  prebuiltImages: knownKeys(BUILT_IMAGES, z.string().regex(/^[\w./:-]+@sha256:[0-9a-f]{64}$/, { message: "expected an image pinned by digest (<registry>/<repository>@sha256:<64 hex>)" }), "built image").optional(),
  deploy: z.enum(["all", "platform"], { message: 'expected "all" (services, jobs and Grafana\'s provisioning) or "platform" (services only)' }).optional(),
});

export type RawConfig = z.infer<typeof rawConfigSchema>;


/** Keys that must be set with `pulumi config set --secret`. */
export const SECRET_KEYS = [
  "postgresPassword",
  "redisPassword",
  "minioRootPassword",
  "kafkaAdminPassword",
  "starrocksRootPassword",
  "streamparkAdminPassword",
  "starrocksRootPasswordPrevious",
  "postgresBackupCipher",
  "credentialSeed",
  "sourcePassword",
  "alertWebhooks",
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
