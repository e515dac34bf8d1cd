import { z } from "zod";
import { parseCpu, parseMemoryMiB } from "./quantities";
import { IMAGES, PROFILES, SERVICES, TOPIC_CLASSES, VOLUMES } from "./services";

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

const sizingOverride = z.strictObject({
  replicas: z.number().int().min(1, { message: "expected a whole number of replicas, at least 1" }).max(50).optional(),
  cpuRequest: cpu.optional(),
  cpuLimit: cpu.optional(),
  memory: memory.optional(),
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
  images: knownKeys(Object.keys(IMAGES), z.string().regex(/^[\w./:@-]+$/, { message: "expected an image reference" }), "image").optional(),
  flink: z
    .strictObject({
      maxParallelism: z.number().int().min(1).max(256).optional(),
      memoryScale: z.number().gt(0).max(4, { message: "expected a factor in (0, 4]" }).optional(),
      slotsPerTaskManager: z.number().int().min(1).max(64).optional(),
      spareSlots: z.number().int().min(0).max(256).optional(),
      checkpointIntervalMs: z.number().int().min(1000, { message: "expected at least 1000 ms" }).max(3600000).optional(),
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
    .refine((tz) => { try { new Intl.DateTimeFormat("en", { timeZone: tz }); return true; } catch { return false; } }, { message: 'expected an IANA time zone such as "Asia/Shanghai"' })
    .optional(),
  source: z
    .strictObject({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).optional(),
      database: z.string().regex(/^\w+$/, { message: "expected a database name" }),
      user: z.string().min(1),
    })
    .optional(),
  sourcePassword: z.string().min(1).optional(),
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
      const teams = ["ops", "business", "data", "infra"];
      const r = z.strictObject(Object.fromEntries(teams.map((t) => [t, z.url({ protocol: /^https?$/, message: "expected an http(s) URL" }).optional()]))).safeParse(v);
      if (!r.success) {
        for (const i of r.error.issues) ctx.addIssue({ code: "custom", message: `${i.path.join(".") || "(value)"}: ${i.code === "unrecognized_keys" ? `unknown team ${i.keys.join(", ")} (teams: ${teams.join(", ")})` : i.message}` });
        return z.NEVER;
      }
      return r.data as Partial<Record<"ops" | "business" | "data" | "infra", string>>;
    })
    .optional(),
  jobRestartNonces: z.record(z.string(), z.number().int().min(0, { message: "expected a whole number" })).optional(),
  // Secrets: only their presence is validated here; values stay Pulumi secrets (see index.ts).
  postgresPassword: z.string().min(16, { message: "expected at least 16 characters" }).optional(),
  redisPassword: z.string().min(16, { message: "expected at least 16 characters" }).optional(),
  minioRootPassword: z.string().min(16, { message: "expected at least 16 characters" }).optional(),
  kafkaPassword: z.string().min(16, { message: "expected at least 16 characters" }).optional(),
  starrocksRootPassword: z.string().min(16, { message: "expected at least 16 characters" }).optional(),
  streamparkAdminPassword: z.string().min(16, { message: "expected at least 16 characters" }).optional(),
});

export type RawConfig = z.infer<typeof rawConfigSchema>;

/** Keys that must be set with `pulumi config set --secret`. */
export const SECRET_KEYS = [
  "postgresPassword",
  "redisPassword",
  "minioRootPassword",
  "kafkaPassword",
  "starrocksRootPassword",
  "streamparkAdminPassword",
  "sourcePassword",
  "alertWebhooks",
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
