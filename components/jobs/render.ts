import { compactedByJob, lakeTables, LakehousePolicy, RETENTION_CLASSES, RetentionClass, tableOptions } from "../config/lakehousePolicy";

/**
 * Turns the SQL in sql/ into what a session runs. Placeholders:
 *   ${a.b}               a plain environment value (endpoint, user, bucket)
 *   ${secret:a.b}        a credential: left in place when rendering, substituted only at submission,
 *                        so the SQL kept in Pulumi state and shown by `pulumi preview` holds none
 *   ${fragment:args}     a block of connector options written once here (Kafka client, CDC source, sinks)
 * An unknown name is an error that names it and the file.
 */

export interface JobEnvironment {
  readonly paimon: { readonly jdbcUrl: string; readonly user: string; readonly warehouse: string };
  readonly s3: { readonly endpoint: string; readonly accessKey: string; readonly pathStyle: boolean };
  /** `user` is the rendered job's own SCRAM user; undefined where no job is rendered (the catalog DDL). */
  readonly kafka: { readonly bootstrap: string; readonly user: string | undefined; readonly securityProtocol: KafkaSecurityProtocol; readonly caCertificate?: string };
  readonly mysql: { readonly hostname: string; readonly port: number; readonly database: string; readonly user: string };
  /** The business time zone: dt/hr partitions and DATE_FORMAT of TIMESTAMP_LTZ follow it (table.local-time-zone). */
  readonly timeZone: string;
  /** Connector options of each DWS / quality sink table, by table name (values may hold ${secret:...}). */
  readonly sinks: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** How the lakehouse keeps itself small (rtdw:lakehouse): the tables' options and the compaction jobs'. */
  readonly lakehouse: LakehousePolicy;
}

/** The credentials a rendered job may reference; kept as Pulumi secrets until submission. */
export const SECRET_NAMES = ["paimon.password", "s3.secretKey", "kafka.password", "mysql.password", "starrocks.password", "quality.password"] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

const options = (o: Record<string, string>) =>
  Object.entries(o)
    .map(([k, v]) => `'${k}' = '${v.replace(/'/g, "''")}'`)
    .join(", ");

export type KafkaSecurityProtocol = "SASL_PLAINTEXT" | "SASL_SSL";

function kafkaClient(env: JobEnvironment): Record<string, string> {
  if (!env.kafka.user) throw new Error("a Kafka table is rendered without the job whose user it connects as");
  if (env.kafka.securityProtocol === "SASL_SSL" && !env.kafka.caCertificate) throw new Error("Kafka over SASL_SSL needs the CA certificate the brokers' certificates are signed with");
  return {
    "properties.bootstrap.servers": env.kafka.bootstrap,
    "properties.security.protocol": env.kafka.securityProtocol,
    "properties.sasl.mechanism": "SCRAM-SHA-512",
    "properties.sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="${env.kafka.user}" password="\${secret:kafka.password}";`,
    ...(env.kafka.securityProtocol === "SASL_SSL" ? { "properties.ssl.truststore.type": "PEM", "properties.ssl.truststore.certificates": env.kafka.caCertificate! } : {}),
  };
}

/** A raw Kafka table's columns (${kafka.rawColumns}): the record, and where it came from. */
export const KAFKA_RAW_COLUMNS: readonly (readonly [string, string])[] = [
  ["payload", "STRING"],
  ["src_partition", "INT METADATA FROM 'partition' VIRTUAL"],
  ["src_offset", "BIGINT METADATA FROM 'offset' VIRTUAL"],
  ["src_ts", "TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL"],
];

function rawSource(env: JobEnvironment, topic: string, group: string): Record<string, string> {
  return {
    connector: "kafka",
    topic,
    ...kafkaClient(env),
    "properties.group.id": group,
    // Only what the CDC job's Kafka transactions committed.
    "properties.isolation.level": "read_committed",
    "scan.startup.mode": "group-offsets",
    "properties.auto.offset.reset": "earliest",
    format: "raw",
  };
}

type Fragment = (env: JobEnvironment, args: string[]) => string;

const FRAGMENTS: Record<string, Fragment> = {
  // The raw record plus where it came from; parsing happens in SQL so bad records can be kept.
  "kafka.rawColumns": () => KAFKA_RAW_COLUMNS.map(([name, type]) => `${name} ${type}`).join(", "),
  "kafka.rawSource": (env, [topic, group]) => options(rawSource(env, topic, group)),
  // A batch read of a topic as it stands: from the first record to the last one present at the start.
  "kafka.boundedSource": (env, [topic, group]) => {
    const { "properties.auto.offset.reset": _reset, ...o } = rawSource(env, topic, group);
    return options({ ...o, "scan.startup.mode": "earliest-offset", "scan.bounded.mode": "latest-offset" });
  },
  // The change events of a raw CDC topic: one row per record with its change kind. An update is
  // two debezium-json records, the old image ("op": "d", row_kind -U) and the new one ("op": "c",
  // row_kind +U); the old image is dropped here (op 'before'), as the previous change already holds it.
  // op: c (insert or snapshot), u (update), d (delete), 'before', or NULL when the record is not a change event.
  "kafka.changeEvents": (_env, [table]) =>
    `SELECT payload, src_partition, src_offset, src_ts, is_json, img,
  CASE WHEN dop = 'd' AND img['row_kind'] = '-U' THEN 'before' WHEN dop = 'c' AND img['row_kind'] = '+U' THEN 'u' WHEN dop IN ('c', 'd') THEN dop END AS op
FROM (
  SELECT payload, src_partition, src_offset, src_ts, c.is_json AS is_json, c.op AS dop, c.img AS img
  FROM (SELECT *, parse_change_event(payload) AS c FROM ${table}))`,
  "kafka.changelogSink": (env, [topic]) =>
    options({
      connector: "kafka",
      topic,
      ...kafkaClient(env),
      "key.format": "json",
      "key.fields": "id",
      "value.format": "debezium-json",
      "sink.delivery-guarantee": "exactly-once",
      "sink.transactional-id-prefix": `rtdw-${topic}`,
      // Must not exceed the brokers' transaction.max.timeout.ms (15 min by default).
      "properties.transaction.timeout.ms": "900000",
    }),
  "mysql.cdc": (env) =>
    options({
      connector: "mysql-cdc",
      hostname: env.mysql.hostname,
      port: String(env.mysql.port),
      username: env.mysql.user,
      password: "${secret:mysql.password}",
      "database-name": env.mysql.database,
      "scan.startup.mode": "initial",
      "server-time-zone": "UTC",
    }),
  // A table's upkeep options under the stack's lakehouse policy (set again on existing tables by the upkeep task).
  "lakehouse.options": (env, [table]) => {
    const t = lakeTables().find((x) => x.name === table);
    if (!t) throw new Error(`lakehouse.options: no table "${table}" in the pipelines' tables.sql`);
    return options(tableOptions(t, env.lakehouse));
  },
  // The options a compaction job applies to the tables of a retention class, as CALL sys.compact_database takes them ("k=v,k=v").
  "lakehouse.compactionOptions": (env, [cls]) => {
    if (!(RETENTION_CLASSES as readonly string[]).includes(cls)) throw new Error(`lakehouse.compactionOptions: "${cls}" is not a retention class (${RETENTION_CLASSES.join(", ")})`);
    const t = lakeTables().find((x) => x.retention === (cls as RetentionClass) && compactedByJob(x));
    if (!t) throw new Error(`lakehouse.compactionOptions: no table of class "${cls}" is compacted by a job`);
    return Object.entries(tableOptions(t, env.lakehouse))
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
  },
  sink: (env, [table]) => {
    const o = env.sinks[table];
    if (!o) throw new Error(`no sink configured for table "${table}" (have: ${Object.keys(env.sinks).join(", ") || "none"})`);
    return options(o as Record<string, string>);
  },
};

const PLACEHOLDER = /\$\{([a-zA-Z][\w.]*)(?::([^}]*))?\}/g;

function plainValue(env: JobEnvironment, name: string): string | undefined {
  const v = name.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), env);
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

/** Expands plain values and fragments; leaves ${secret:...} for submission. */
/** Values from config must not carry placeholders: `${secret:…}` in a user name would be expanded at submission and send that secret elsewhere. */
function placeholdersInValues(env: JobEnvironment): string[] {
  const found: string[] = [];
  const walk = (v: unknown, at: string) => {
    if (typeof v === "string" && v.includes("${")) found.push(`${at} holds "\${": placeholders are only expanded where the SQL names them`);
    else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) walk(x, at ? `${at}.${k}` : k);
  };
  // Sink options are written by this project and name their credentials as placeholders on purpose.
  const { sinks: _sinks, ...values } = env;
  walk(values, "");
  return found;
}

export function renderSql(text: string, env: JobEnvironment, file = "<sql>"): string {
  const problems: string[] = placeholdersInValues(env);
  const expand = (t: string, depth: number): string =>
    t.replace(PLACEHOLDER, (whole, name: string, arg: string | undefined) => {
      if (name === "secret") {
        if (!(SECRET_NAMES as readonly string[]).includes(arg ?? "")) problems.push(`unknown secret "${arg}" (known: ${SECRET_NAMES.join(", ")})`);
        return whole;
      }
      const f = FRAGMENTS[name];
      if (f) {
        try {
          return depth < 3 ? expand(f(env, (arg ?? "").split(",").map((s) => s.trim())), depth + 1) : whole;
        } catch (e) {
          problems.push((e as Error).message);
          return whole;
        }
      }
      const v = arg === undefined ? plainValue(env, name) : undefined;
      if (v === undefined) {
        problems.push(`unknown placeholder \${${name}${arg !== undefined ? `:${arg}` : ""}}`);
        return whole;
      }
      return v.replace(/'/g, "''");
    });
  const out = expand(text, 0);
  if (problems.length) throw new Error(`${file}: ${[...new Set(problems)].join("; ")}`);
  return out;
}

/** The secrets a rendered SQL text needs. */
export function secretsUsed(sql: string): SecretName[] {
  return [...new Set([...sql.matchAll(/\$\{secret:([\w.]+)\}/g)].map((m) => m[1] as SecretName))];
}

/** Substitutes credentials, immediately before the SQL is sent; the result must never be stored. */
export function withSecrets(sql: string, secrets: Partial<Record<SecretName, string>>): string {
  return sql.replace(/\$\{secret:([\w.]+)\}/g, (_, name: SecretName) => {
    const v = secrets[name];
    if (v === undefined) throw new Error(`the SQL needs secret "${name}", which was not provided`);
    return v.replace(/'/g, "''");
  });
}

/** Splits a script into statements on semicolons outside quotes and comments. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let cur = "";
  let i = 0;
  let inSet = false;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
      cur += "\n";
      continue;
    }
    if (c === "/" && sql[i + 1] === "*" && sql[i + 2] !== "+") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
      continue;
    }
    if (c === "'" || c === "`" || c === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === c && sql[j + 1] !== c)) j += sql[j] === c ? 2 : 1;
      cur += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === ";") {
      const stmt = cur.trim();
      // EXECUTE STATEMENT SET BEGIN ... END; is one statement.
      if (/^EXECUTE\s+STATEMENT\s+SET\s+BEGIN/i.test(stmt)) inSet = true;
      if (inSet && !/\bEND$/i.test(stmt)) {
        cur += ";";
        i++;
        continue;
      }
      inSet = false;
      if (stmt) out.push(stmt);
      cur = "";
      i++;
      continue;
    }
    cur += c;
    i++;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
