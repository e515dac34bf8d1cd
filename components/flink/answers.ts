import type { z as Zod } from "zod";
import { requestJson, RetryPolicy } from "../platform/http";

/**
 * The answers of the Flink 1.20 REST APIs this project reads, as schemas of exactly the fields it
 * uses (JobManager: docs/content/docs/ops/rest_api.md and rest_v1_dispatcher.yml; SQL Gateway:
 * rest_v2_sql_gateway.yml in apache/flink). Every answer is validated where it enters, so a field
 * that changes in a Flink upgrade fails naming the endpoint and the field, not somewhere later.
 * Fields not listed are ignored. Built on first use with a lazily required zod: this code also runs
 * inside the serialized dynamic providers, where a module-level schema object could not be captured.
 */
function build(z: typeof Zod) {
  const checkpoint = z.object({ id: z.number(), external_path: z.string().nullish() });
  return {
    jobsOverview: z.object({ jobs: z.array(z.object({ jid: z.string(), name: z.string(), state: z.string(), "start-time": z.number() })) }),
    jobDetails: z.object({
      state: z.string(),
      vertices: z.array(z.object({ id: z.string(), status: z.string(), metrics: z.object({ "read-records": z.number().optional() }).optional() })).optional(),
      // A job still being set up (a restore after a JobManager restart) answers with a plan without nodes (seen on 1.20.3).
      plan: z.object({ nodes: z.array(z.object({ id: z.string(), inputs: z.array(z.object({ id: z.string() })).nullish() })).optional() }).optional(),
    }),
    jobExceptions: z.object({
      "root-exception": z.string().nullish(),
      exceptionHistory: z.object({ entries: z.array(z.object({ stacktrace: z.string().nullish() })) }).optional(),
    }),
    checkpoints: z.object({
      counts: z.object({ completed: z.number(), failed: z.number(), in_progress: z.number() }),
      latest: z
        .object({
          completed: checkpoint.nullish(),
          savepoint: checkpoint.nullish(),
          restored: z.object({ id: z.number(), restore_timestamp: z.number(), external_path: z.string().nullish() }).nullish(),
        })
        .nullish(),
    }),
    jobConfig: z.object({ "execution-config": z.object({ "user-config": z.record(z.string(), z.string()).nullish() }).nullish() }),
    triggered: z.object({ "request-id": z.string() }),
    savepointStatus: z.object({
      status: z.object({ id: z.string() }),
      operation: z.object({ location: z.string().nullish(), "failure-cause": z.object({ "stack-trace": z.string().nullish() }).nullish() }).nullish(),
    }),
    session: z.object({ sessionHandle: z.string() }),
    statement: z.object({ operationHandle: z.string() }),
    resultPage: z.object({
      resultType: z.enum(["NOT_READY", "PAYLOAD", "EOS"]),
      jobID: z.string().nullish(),
      nextResultUri: z.string().nullish(),
      results: z.object({ columns: z.array(z.object({ name: z.string() })).optional(), data: z.array(z.object({ fields: z.array(z.unknown()) })).optional() }).optional(),
    }),
    operationStatus: z.object({ status: z.string() }),
    info: z.object({ productName: z.string().optional(), version: z.string().optional() }),
    clusterOverview: z.object({ taskmanagers: z.number().optional(), "slots-total": z.number().optional() }),
    empty: z.object({}),
  };
}

export type AnswerSchemas = ReturnType<typeof build>;
export type AnswerKind = keyof AnswerSchemas;
export type Answer<K extends AnswerKind> = Zod.infer<AnswerSchemas[K]>;

/**
 * Built once per process and version of these schemas, and kept on the global object, not in a
 * module variable: a provider is serialized with the values its functions capture, and built schemas
 * cannot be. Keyed by the schemas' own source: one provider process serves the state's provider
 * (refresh, read) and the program's (update) alike, and an older version's schemas must not answer
 * for a newer one (a rebuild's refresh cached a plan schema the update then failed on).
 */
function schemasOnce(): AnswerSchemas {
  const g = globalThis as unknown as { __rtdwFlinkAnswerSchemasByVersion?: Map<string, AnswerSchemas> };
  const cache = (g.__rtdwFlinkAnswerSchemasByVersion ??= new Map());
  const version = build.toString();
  let schemas = cache.get(version);
  if (!schemas) cache.set(version, (schemas = build((require("zod") as typeof import("zod")).z)));
  return schemas;
}

/** Checks `value` as the answer of `kind`; the error names the endpoint and each wrong field. */
export function validateAnswer<K extends AnswerKind>(kind: K, endpoint: string, value: unknown): Answer<K> {
  const r = schemasOnce()[kind].safeParse(value);
  if (r.success) return r.data as Answer<K>;
  const fields = r.error.issues.map((i) => `${i.path.join(".") || "(answer)"}: ${i.message}`).join("; ");
  throw new Error(`${endpoint} answered in a shape this client does not know (${kind}): ${fields}`);
}

/** requestJson, then the answer validated as `kind`. */
export async function getAnswer<K extends AnswerKind>(
  kind: K,
  method: string,
  url: string,
  body?: unknown,
  opts: { retry?: RetryPolicy; timeoutMs?: number; idempotent?: boolean } = {},
): Promise<Answer<K>> {
  return validateAnswer(kind, `${method} ${url}`, await requestJson<unknown>(method, url, body, opts));
}
