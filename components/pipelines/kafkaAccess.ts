import { kafkaUserOfJob } from "../jobs/environment";
import { JobLineage } from "../jobs/lineage";
import { TOPICS } from "./topics";
import { REPLAY_CLIENT, REPLAY_TOPIC } from "./replay";

/**
 * Who may do what on Kafka, derived (not declared a second time) from what already says it: each
 * Flink job's lineage (the topics its SQL reads and writes), the collector's two topics, the
 * exporter's read-only view. Every client is its own SCRAM user; `admin` (the brokers' super user)
 * is the only other principal and is reached on the internal listener only.
 *
 * Kafka implies Describe from Read and Write, so those are the only operations a job needs:
 *   - reading a topic: Read on the topic, Read on the consumer group named after the job;
 *   - writing a topic exactly once: Write on the topic and Write on the transactional ids that
 *     start with `rtdw-<topic>` (the prefix the changelog sink sets).
 */

export type KafkaResourceType = "topic" | "group" | "transactional-id" | "cluster";
export type KafkaPatternType = "literal" | "prefixed";
export type KafkaOperation = "Read" | "Write" | "Describe" | "DescribeConfigs";

export interface KafkaAcl {
  readonly resourceType: KafkaResourceType;
  readonly patternType: KafkaPatternType;
  /** Topic, group or transactional-id name or prefix; `kafka-cluster` for the cluster; `*` for all. */
  readonly name: string;
  readonly operation: KafkaOperation;
}

export interface KafkaClient {
  /** The SCRAM user and the ACL principal (`User:<user>`). */
  readonly user: string;
  /** What it is, for docs and errors. */
  readonly does: string;
  readonly acls: readonly KafkaAcl[];
}

/** The super user: brokers, controllers and the admin tasks (topics, users); never a client. */
export const KAFKA_ADMIN_USER = "admin";
/** Vector, the event collector: writes the tracking topics and nothing else. */
export const COLLECTOR_KAFKA_USER = "rtdw-collector";
/** kafka_exporter: describes topics, offsets and consumer groups; reads no record. */
export const EXPORTER_KAFKA_USER = "rtdw-exporter";
/** The SCRAM mechanism every client uses. */
export const KAFKA_SCRAM_MECHANISM = "SCRAM-SHA-512";

/** The transactional-id prefix of an exactly-once sink into `topic` (the changelog sink's option). */
export const transactionalIdPrefix = (topic: string) => `rtdw-${topic}`;

const topicsOf = (tables: readonly string[]) => tables.filter((t) => t.startsWith("kafka:")).map((t) => t.slice("kafka:".length));

function jobClient(l: JobLineage): KafkaClient | undefined {
  const reads = topicsOf(l.reads);
  const writes = topicsOf(l.writes);
  if (!reads.length && !writes.length) return undefined;
  const acls: KafkaAcl[] = [
    ...reads.map((name): KafkaAcl => ({ resourceType: "topic", patternType: "literal", name, operation: "Read" })),
    ...(reads.length ? [{ resourceType: "group", patternType: "literal", name: l.job, operation: "Read" } as const] : []),
    ...writes.flatMap((name): KafkaAcl[] => [
      { resourceType: "topic", patternType: "literal", name, operation: "Write" },
      { resourceType: "transactional-id", patternType: "prefixed", name: transactionalIdPrefix(name), operation: "Write" },
    ]),
  ];
  return { user: kafkaUserOfJob(l.job), does: `Flink job ${l.job}`, acls };
}

/** Every Kafka client of the platform with its ACLs; users sorted, so renderings are stable. */
export function kafkaClients(lineage: readonly JobLineage[]): KafkaClient[] {
  const jobs = lineage.map(jobClient).filter((c): c is KafkaClient => c !== undefined);
  const trackingTopics = TOPICS.filter((t) => t.class === "tracking" || t.class === "deadLetter").map((t) => t.name);
  const clients: KafkaClient[] = [
    ...jobs,
    {
      user: COLLECTOR_KAFKA_USER,
      does: "the event collector (Vector)",
      acls: trackingTopics.map((name) => ({ resourceType: "topic", patternType: "literal", name, operation: "Write" })),
    },
    {
      user: REPLAY_CLIENT,
      does: "the raw archive's replay (a batch job run by npm run replay)",
      acls: [
        { resourceType: "topic", patternType: "literal", name: REPLAY_TOPIC, operation: "Read" },
        { resourceType: "group", patternType: "literal", name: REPLAY_CLIENT, operation: "Read" },
      ],
    },
    {
      user: EXPORTER_KAFKA_USER,
      does: "kafka_exporter (lag and offsets)",
      acls: [
        { resourceType: "topic", patternType: "literal", name: "*", operation: "Describe" },
        { resourceType: "group", patternType: "literal", name: "*", operation: "Describe" },
        { resourceType: "cluster", patternType: "literal", name: "kafka-cluster", operation: "Describe" },
      ],
    },
  ];
  const seen = new Set<string>();
  for (const c of clients) {
    if (c.user === KAFKA_ADMIN_USER || seen.has(c.user)) throw new Error(`Kafka user "${c.user}" is claimed twice (a job named like a platform client?)`);
    if (!/^[a-z][a-z0-9-]*$/.test(c.user)) throw new Error(`Kafka user "${c.user}": expected [a-z0-9-]`);
    seen.add(c.user);
  }
  return clients.sort((a, b) => a.user.localeCompare(b.user));
}

/**
 * The access task's input: `user <name>` and `allow <user> <resource-type> <pattern-type> <name> <operation>`
 * lines. Users not listed (but `admin`) lose their credentials and ACLs when the task runs.
 */
export function renderAccessLines(clients: readonly KafkaClient[]): string {
  const lines: string[] = [];
  for (const c of clients) {
    lines.push(`user ${c.user}`);
    for (const a of c.acls) lines.push(`allow ${c.user} ${a.resourceType} ${a.patternType} ${a.name} ${a.operation}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The task's secret input: one `user password` line per client. Client passwords are generated
 * (never configured), alphanumeric: kafka-configs' SCRAM syntax `[password=…]` splits on commas.
 */
export function renderPasswordLines(passwords: Readonly<Record<string, string>>): string {
  return Object.entries(passwords)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([u, p]) => {
      if (!/^[A-Za-z0-9]{16,}$/.test(p)) throw new Error(`Kafka password of ${u}: expected at least 16 letters and digits (SCRAM credentials are set through kafka-configs, which splits on punctuation)`);
      return `${u} ${p}`;
    })
    .join("\n") + "\n";
}
