import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

export const SENSORS_VRL = fs.readFileSync(path.join(__dirname, "sensors.vrl"), "utf8");

/** The VRL program with or without the GeoIP lookup (Vector refuses a config naming a missing table). */
export function sensorsVrl(geoip: boolean): string {
  return SENSORS_VRL.replace("#GEOIP# ", geoip ? "" : "# GeoIP off: ");
}

export interface VectorConfigOptions {
  readonly kafkaBootstrap: string;
  readonly kafkaUser: string;
  readonly eventsTopic: string;
  readonly deadLetterTopic: string;
  readonly redisHost: string;
  readonly redisPort: number;
  /** Path of a GeoLite2-City database, or undefined to run without GeoIP. */
  readonly geoipDatabase?: string;
  readonly dataDir: string;
  /** The user Prometheus scrapes Vector's metrics as; the password is ${METRICS_PASSWORD}. */
  readonly metricsUser: string;
}

/**
 * Vector's pipeline: HTTP source (fed by Nginx) -> decode/validate/enrich (sensors.vrl) -> route:
 * valid events to the tracking topic, every invalid event and every undecodable request to the
 * dead-letter topic with its reason and raw payload. Disk buffers and end-to-end acknowledgements
 * make Kafka delivery at-least-once across restarts. Credentials are ${ENV} references Vector fills
 * from the container's secret environment.
 */
export function renderVectorConfig(o: VectorConfigOptions): string {
  const kafka = {
    type: "kafka",
    bootstrap_servers: o.kafkaBootstrap,
    sasl: { enabled: true, mechanism: "PLAIN", username: o.kafkaUser, password: "${KAFKA_PASSWORD}" },
    librdkafka_options: { "security.protocol": "sasl_plaintext" },
    compression: "lz4",
    encoding: { codec: "json" },
    acknowledgements: { enabled: true },
    buffer: { type: "disk", max_size: 536870912, when_full: "block" },
  };
  const config = {
    data_dir: o.dataDir,
    api: { enabled: true, address: "0.0.0.0:8686" },
    enrichment_tables: {
      ...(o.geoipDatabase ? { geoip: { type: "geoip", path: o.geoipDatabase, locale: "zh-CN" } } : {}),
      // Filled from Redis every minute; an id removed from the whitelist ages out after 5 minutes.
      core_users: { type: "memory", ttl: 300, flush_interval: 10, inputs: ["whitelist_entries"] },
    },
    sources: {
      sensors_http: {
        type: "http_server",
        address: "0.0.0.0:8687",
        decoding: { codec: "bytes" },
        query_parameters: ["data", "data_list", "gzip", "ext", "project", "token"],
        headers: ["X-Real-IP", "X-Request-Time", "X-Request-Id", "User-Agent", "Content-Type"],
        strict_path: false,
        path: "/",
      },
      whitelist: {
        type: "exec",
        mode: "scheduled",
        scheduled: { exec_interval_secs: 60 },
        command: ["sh", "-c", `redis-cli --no-auth-warning -h ${o.redisHost} -p ${o.redisPort} --scan --pattern 'user_whitelist:*'`],
      },
      vector_metrics: { type: "internal_metrics" },
    },
    transforms: {
      whitelist_entries: {
        type: "remap",
        inputs: ["whitelist"],
        source: 'id = replace(string!(.message), "user_whitelist:", "")\n. = set!({}, [id], true)',
      },
      sensors_decode: {
        type: "remap",
        inputs: ["sensors_http"],
        source: sensorsVrl(!!o.geoipDatabase),
        drop_on_error: true,
        drop_on_abort: true,
        reroute_dropped: true,
      },
      sensors_route: {
        type: "route",
        inputs: ["sensors_decode"],
        route: { valid: "!exists(._reason)", invalid: "exists(._reason)" },
      },
      // A request that could not be decoded at all: the raw request and the error, whole.
      request_dead_letter: {
        type: "remap",
        inputs: ["sensors_decode.dropped"],
        source: '. = {"reason": %vector.dropped.message || "undecodable request", "raw": encode_json(.), "recv_time": to_unix_timestamp(now(), unit: "milliseconds")}',
      },
      event_dead_letter: {
        type: "remap",
        inputs: ["sensors_route.invalid"],
        source: '. = {"reason": ._reason, "raw": .raw, "distinct_id": .distinct_id, "recv_time": .recv_time, "ip": .ip}',
      },
    },
    sinks: {
      events_kafka: { ...kafka, inputs: ["sensors_route.valid"], topic: o.eventsTopic, key_field: "distinct_id" },
      dead_letter_kafka: { ...kafka, inputs: ["request_dead_letter", "event_dead_letter", "sensors_route._unmatched"], topic: o.deadLetterTopic },
      metrics: {
        type: "prometheus_exporter",
        inputs: ["vector_metrics"],
        address: "0.0.0.0:9598",
        auth: { strategy: "basic", user: o.metricsUser, password: "${METRICS_PASSWORD}" },
      },
    },
  };
  return YAML.stringify(config, { lineWidth: 0 });
}
