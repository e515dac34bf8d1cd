import * as pulumi from "@pulumi/pulumi";
import { TopicClass, TopicSettings } from "../config";
import { TOPICS } from "./topics";

/**
 * The pipelines' Kafka topics as one resource, for a Kafka the stack does not run itself (the
 * sandbox): created when missing, converged like the stacks' topic task (partitions only grow,
 * retention and cleanup policy set), read back on refresh so a topic deleted or changed by hand shows
 * as a difference. Topics hold data: the stack registers this resource with retainOnDelete.
 */
export interface TopicState {
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
  readonly cleanupPolicy: string;
}

export interface KafkaTopicsInputs {
  readonly bootstrapServers: string;
  /** A user that may create and alter topics (SASL/PLAIN). */
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly replicationFactor: number;
  readonly topics: readonly TopicState[];
}

export interface KafkaTopicsOutputs extends KafkaTopicsInputs {
  /** The topics as Kafka has them; a topic missing there is absent here. */
  readonly actual: readonly TopicState[];
}

/** Each declared topic with its class's partitions and retention. */
export function declaredTopics(settings: Readonly<Record<TopicClass, TopicSettings>>): TopicState[] {
  return TOPICS.map((t) => ({ name: t.name, partitions: settings[t.class].partitions, retentionMs: settings[t.class].retentionHours * 3_600_000, cleanupPolicy: t.cleanupPolicy }));
}

type Admin = import("kafkajs").Admin;

/** Required inside the provider's methods: the provider is serialized and run by the engine's plugin. */
async function withAdmin<T>(i: KafkaTopicsInputs, fn: (a: Admin) => Promise<T>): Promise<T> {
  const { Kafka, logLevel } = require("kafkajs") as typeof import("kafkajs");
  const admin = new Kafka({
    clientId: "rtdw-pulumi-topics",
    brokers: i.bootstrapServers.split(","),
    sasl: { mechanism: "plain", username: i.adminUser, password: i.adminPassword },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    retry: { retries: 5, initialRetryTime: 500 },
  }).admin();
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(`Kafka at ${i.bootstrapServers} could not be reached as ${i.adminUser}: ${(e as Error).message}`);
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function readTopics(admin: Admin, names: readonly string[]): Promise<TopicState[]> {
  const existing = new Set(await admin.listTopics());
  const present = names.filter((n) => existing.has(n));
  if (!present.length) return [];
  const { ConfigResourceTypes } = require("kafkajs") as typeof import("kafkajs");
  const meta = await admin.fetchTopicMetadata({ topics: present });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ["retention.ms", "cleanup.policy"] })),
  });
  return present.map((name) => {
    const entries = configs.resources.find((r) => r.resourceName === name)?.configEntries ?? [];
    const value = (k: string) => entries.find((e) => e.configName === k)?.configValue ?? "";
    return { name, partitions: meta.topics.find((t) => t.name === name)?.partitions.length ?? 0, retentionMs: Number(value("retention.ms")), cleanupPolicy: value("cleanup.policy") };
  });
}

async function converge(i: KafkaTopicsInputs): Promise<TopicState[]> {
  return withAdmin(i, async (admin) => {
    const { ConfigResourceTypes } = require("kafkajs") as typeof import("kafkajs");
    const have = await readTopics(admin, i.topics.map((t) => t.name));
    const missing = i.topics.filter((t) => !have.some((h) => h.name === t.name));
    if (missing.length) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: i.replicationFactor,
          configEntries: [{ name: "retention.ms", value: String(t.retentionMs) }, { name: "cleanup.policy", value: t.cleanupPolicy }],
        })),
      });
    }
    for (const t of i.topics) {
      const h = have.find((x) => x.name === t.name);
      if (!h) continue;
      if (t.partitions < h.partitions) throw new Error(`topic ${t.name} has ${h.partitions} partitions; Kafka cannot shrink it to ${t.partitions}`);
      if (t.partitions > h.partitions) await admin.createPartitions({ topicPartitions: [{ topic: t.name, count: t.partitions }] });
      if (t.retentionMs !== h.retentionMs || t.cleanupPolicy !== h.cleanupPolicy) {
        await admin.alterConfigs({
          validateOnly: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: t.name, configEntries: [{ name: "retention.ms", value: String(t.retentionMs) }, { name: "cleanup.policy", value: t.cleanupPolicy }] }],
        });
      }
    }
    return readTopics(admin, i.topics.map((t) => t.name));
  });
}

export const kafkaTopicsProvider: pulumi.dynamic.ResourceProvider<KafkaTopicsInputs, KafkaTopicsOutputs> = {
  async diff(_id, olds, news) {
    // `actual` is what refresh read: a topic deleted or altered by hand is a change to make again.
    const want = JSON.stringify([...news.topics].sort((a, b) => a.name.localeCompare(b.name)));
    const have = JSON.stringify([...(olds.actual ?? [])].sort((a, b) => a.name.localeCompare(b.name)));
    const replaces = olds.bootstrapServers !== news.bootstrapServers ? ["bootstrapServers"] : [];
    return { changes: want !== have || replaces.length > 0 || olds.adminUser !== news.adminUser || olds.replicationFactor !== news.replicationFactor, replaces };
  },
  async create(inputs) {
    return { id: `topics@${inputs.bootstrapServers}`, outs: { ...inputs, actual: await converge(inputs) } };
  },
  async read(id, props) {
    const p = props as KafkaTopicsOutputs;
    const actual = await withAdmin(p, (admin) => readTopics(admin, p.topics.map((t) => t.name)));
    return { id, props: { ...p, actual } };
  },
  async update(_id, _olds, news) {
    return { outs: { ...news, actual: await converge(news) } };
  },
  async delete() {
    // Registered with retainOnDelete: the engine never calls this. Deleting topics is a decision for a person.
  },
};

export type KafkaTopicsArgs = { readonly [K in keyof KafkaTopicsInputs]: pulumi.Input<KafkaTopicsInputs[K]> };

export class KafkaTopics extends pulumi.dynamic.Resource {
  declare readonly actual: pulumi.Output<TopicState[]>;

  constructor(name: string, args: KafkaTopicsArgs, opts?: pulumi.CustomResourceOptions) {
    super(kafkaTopicsProvider, name, { ...args, actual: undefined }, { retainOnDelete: true, ...opts, additionalSecretOutputs: ["adminPassword"] }, "rtdw", "KafkaTopics");
  }
}
