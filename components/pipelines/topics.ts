import { TopicClass } from "../config";

/** The business tables the CDC job reads (database `shop`), one Kafka topic each. */
export const SOURCE_TABLES = ["users", "products", "orders", "order_items", "payments"] as const;

export interface TopicSpec {
  readonly name: string;
  /** Partitions and retention come from the class's config (rtdw:kafkaTopics). */
  readonly class: TopicClass;
  /** Compacted topics keep the latest record per key. */
  readonly cleanupPolicy: "delete";
}

/** Every topic the pipelines use; Kafka's automatic topic creation is off, so a topic not here fails loudly. */
export const TOPICS: readonly TopicSpec[] = [
  ...SOURCE_TABLES.map((t) => ({ name: `cdc.shop.${t}`, class: "cdc" as const, cleanupPolicy: "delete" as const })),
  { name: "tracking.events", class: "tracking", cleanupPolicy: "delete" },
  { name: "tracking.dead-letter", class: "deadLetter", cleanupPolicy: "delete" },
  // A replay of the raw archive: the collector's re-parse of it, read by the replay job (components/pipelines/replay.ts).
  { name: "tracking.replay", class: "tracking", cleanupPolicy: "delete" },
];
