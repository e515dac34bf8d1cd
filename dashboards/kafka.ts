import { dashboard, prom, stat, timeseries } from "./panels";

/** Kafka: consumer lag per group and topic, throughput per topic. */
export const kafkaLag = () =>
  dashboard("kafka-lag", "Kafka lag", "How far each consumer (the Flink jobs' groups) is behind, and what flows through each topic.")
    .withPanel(stat("Total lag", "none", prom("sum(kafka_consumergroup_lag)")))
    .withPanel(stat("Brokers", "none", prom("kafka_brokers")))
    .withPanel(timeseries("Lag per consumer group", "none", prom("sum by (consumergroup) (kafka_consumergroup_lag)", "{{consumergroup}}")))
    .withPanel(timeseries("Lag per topic", "none", prom("sum by (topic) (kafka_consumergroup_lag)", "{{topic}}")))
    .withPanel(timeseries("Records per second per topic", "ops", prom("sum by (topic) (rate(kafka_topic_partition_current_offset[5m]))", "{{topic}}")))
    .withPanel(timeseries("Under-replicated partitions", "none", prom("sum by (topic) (kafka_topic_partition_under_replicated_partition)", "{{topic}}")));
