import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { IMAGES } from "../../components/config/services";
import { ARCHIVE_BATCH_SECONDS, diskBuffers, RAW_ARCHIVE_PREFIX, REPLAY_BUFFER_EVENTS, REPLAY_HEADER, REPLAY_OUT_VRL } from "../../components/collector/vector";
import { REPLAY_TOPIC } from "../../components/pipelines/replay";
import { TOPICS } from "../../components/pipelines/topics";
import { vectorInterpolate } from "../../sandbox/vectorRules";
import { ofType, runStack } from "../helpers/mocks";

/**
 * The collector's Vector config as the test stack renders it, judged by the rules of the Vector it
 * deploys (0.48: environment interpolation over the whole text, an undefined name stops Vector) and
 * of newer ones (0.57+: no interpolation), as observed on a real Vector build on 2026-12-06
 * (../shared/reference/vector-observed.md): "Missing environment variable in config. name = msec /
 * lib / lib_version" with the old text, and `${KAFKA_PASSWORD}` sent to the broker literally.
 */
describe("Vector config: starts on the deployed Vector and on newer ones, credentials from its secret backend, buffers on a volume", () => {
  let run: Awaited<ReturnType<typeof runStack>>;
  let text: string;
  beforeAll(async () => {
    run = await runStack("test", { imageRegistry: "registry.example.com/rtdw", namespace: "rtdw-test" });
    text = ofType(run.registered, "kubernetes:core/v1:ConfigMap").map((c) => c.inputs.data?.["vector.yaml"]).find(Boolean);
  });

  it("has no dollar sign, so Vector 0.48's interpolation (with an empty environment) leaves it as it is and 0.57+ reads the same", () => {
    expect(text).toBeDefined();
    expect(text.indexOf("$")).toBe(-1);
    expect(vectorInterpolate(text, {})).toBe(text);
  });

  it("the rule reproduces what the real Vector said of the old text, and honours $$ and defaults", () => {
    expect(() => vectorInterpolate('source: e.lib = o.lib."$lib"\n# Nginx $msec\npassword: ${KAFKA_PASSWORD}', {})).toThrow(
      'Vector would refuse this config: Missing environment variable in config. name = "lib"; Missing environment variable in config. name = "msec"; Missing environment variable in config. name = "KAFKA_PASSWORD"',
    );
    expect(vectorInterpolate("a $$1 ${X:-d} ${Y-e} $Z", { Z: "z" })).toBe("a $1 d e z");
  });

  it("credentials: SECRET[files.*] from a directory of the pod's Secret, never in the ConfigMap", () => {
    const cfg = YAML.parse(text);
    expect(cfg.secret).toEqual({ files: { type: "directory", path: "/etc/vector/secrets", remove_trailing_whitespace: true } });
    expect(cfg.sinks.events_kafka.sasl.password).toBe("SECRET[files.kafka_password]");
    expect(cfg.sinks.metrics.auth.password).toBe("SECRET[files.metrics_password]");
    const secrets = ofType(run.registered, "kubernetes:core/v1:Secret").filter((s) => s.inputs.metadata.labels?.["app.kubernetes.io/name"] === "vector");
    const files = secrets.flatMap((s) => Object.keys(s.inputs.stringData ?? {}));
    expect(files).toEqual(expect.arrayContaining([expect.stringMatching(/kafka_password$/), expect.stringMatching(/metrics_password$/)]));
    for (const pw of Object.values(run.credentials.kafka.users)) expect(text).not.toContain(pw);
  });

  it("the disk buffers (what a 200 means) live on a persistent volume they fit in, not in scratch space", () => {
    const sts = ofType(run.registered, "kubernetes:apps/v1:StatefulSet").find((s) => s.inputs.metadata.name === "vector")!;
    expect(sts).toBeDefined();
    const claims = sts.inputs.spec.volumeClaimTemplates;
    expect(claims.map((c: { spec: { resources: { requests: { storage: string } } } }) => c.spec.resources.requests.storage)).toEqual([`${run.cfg.volumesGiB.vector}Gi`]);
    const mounts = sts.inputs.spec.template.spec.containers[0].volumeMounts.filter((m: { mountPath: string }) => m.mountPath === "/var/lib/vector");
    expect(mounts).toEqual([expect.objectContaining({ name: claims[0].metadata.name })]);
    const cfg = YAML.parse(text);
    expect(cfg.data_dir).toBe("/var/lib/vector");
    const sizes = diskBuffers(run.cfg.volumesGiB.vector, true);
    const kafka = [cfg.sinks.events_kafka.buffer, cfg.sinks.dead_letter_kafka.buffer];
    for (const b of kafka) expect(b).toEqual({ type: "disk", max_size: sizes.kafka, when_full: "block" });
    // The archive's buffer drops when full: object storage away for long never blocks the Kafka path.
    expect(cfg.sinks.raw_archive.buffer).toEqual({ type: "disk", max_size: sizes.archive, when_full: "drop_newest" });
    // Vector refuses a disk buffer under 256 MiB.
    for (const b of [...kafka, cfg.sinks.raw_archive.buffer]) expect(b.max_size).toBeGreaterThanOrEqual(256 * 1024 ** 2);
    expect([...kafka, cfg.sinks.raw_archive.buffer].reduce((a, b) => a + b.max_size, 0)).toBeLessThan(run.cfg.volumesGiB.vector * 1024 ** 3 * 0.95);
  });

  it("the raw archive: every decoded event as received, gzipped NDJSON under raw/dt=/hr= of the archive bucket, written with the archive identity's keys from the secret backend", () => {
    const cfg = YAML.parse(text);
    // Live events only: a replay's events are in the archive already.
    expect(cfg.transforms.archive_records.inputs).toEqual(["sensors_route.live"]);
    expect(cfg.sinks.raw_archive).toMatchObject({
      type: "aws_s3",
      inputs: ["archive_records"],
      bucket: run.cfg.objectStore.bucketPrefix + "-archive",
      endpoint: "http://minio.rtdw-test.svc.cluster.local:9000",
      force_path_style: true,
      key_prefix: RAW_ARCHIVE_PREFIX,
      compression: "gzip",
      encoding: { codec: "json" },
      framing: { method: "newline_delimited" },
      batch: { timeout_secs: ARCHIVE_BATCH_SECONDS },
      auth: { access_key_id: "SECRET[files.archive_access_key]", secret_access_key: "SECRET[files.archive_secret_key]" },
    });
    // The record as received goes to the archive (and a rejected one's to the dead-letter), not to Kafka.
    expect(cfg.sinks.events_kafka.inputs).toEqual(["events_out"]);
    expect(cfg.transforms.events_out).toEqual({ type: "remap", inputs: ["sensors_route.valid"], source: "del(.raw)" });
    expect(text).not.toContain(run.credentials.objectStore.secretKey);
  });

  it("a replay (marked by the header only Vector's own port can be sent: Nginx clears it) goes to the replay topic, not to the live topic, the dead-letter or the archive", () => {
    const cfg = YAML.parse(text);
    expect(cfg.sources.sensors_http.headers).toContain(REPLAY_HEADER);
    expect(cfg.transforms.sensors_route.route).toEqual({
      valid: "!exists(._reason) && !exists(.replay_id)",
      invalid: "exists(._reason) && !exists(.replay_id)",
      replay: "exists(.replay_id)",
      live: "!exists(.replay_id)",
    });
    expect(cfg.transforms.replay_out).toEqual({ type: "remap", inputs: ["sensors_route.replay"], source: REPLAY_OUT_VRL });
    expect(cfg.sinks.replay_kafka).toMatchObject({ type: "kafka", inputs: ["replay_out"], topic: REPLAY_TOPIC, key_field: "distinct_id", buffer: { type: "memory", max_events: REPLAY_BUFFER_EVENTS, when_full: "block" } });
    // Every topic Vector writes is one the stack creates (Kafka's automatic creation is off).
    const written = Object.values(cfg.sinks as Record<string, { type: string; topic?: string }>).filter((k) => k.type === "kafka").map((k) => k.topic);
    expect(written.sort()).toEqual(TOPICS.filter((t) => t.class === "tracking" || t.class === "deadLetter").map((t) => t.name).sort());
    const nginx = ofType(run.registered, "kubernetes:core/v1:ConfigMap").map((c) => c.inputs.data?.["nginx.conf"]).find(Boolean) as string;
    const proxies = nginx.split("proxy_pass http://vector;").length - 1;
    expect(proxies).toBeGreaterThan(1);
    expect(nginx.split(`proxy_set_header ${REPLAY_HEADER} "";`).length - 1).toBe(proxies);
  });

  it("the VRL harness runs the VRL Vector 0.48.0 ships: vrl 0.25.0 from crates.io, the checksum in Vector v0.48.0's Cargo.lock", () => {
    expect(IMAGES.vector).toBe("timberio/vector:0.48.0-debian");
    const lock = fs.readFileSync(path.resolve(__dirname, "../vrl/Cargo.lock"), "utf8");
    const vrl = /\[\[package\]\]\nname = "vrl"\nversion = "([^"]+)"\nsource = "([^"]+)"\nchecksum = "([0-9a-f]+)"/.exec(lock)!;
    // Recorded from vectordotdev/vector at tag v0.48.0 (Cargo.lock), read 2026-12-06.
    expect(vrl.slice(1)).toEqual(["0.25.0", "registry+https://github.com/rust-lang/crates.io-index", "4f49394b948406ea1564aa00152e011d87a38ad35d277ebddda257a9ee39c419"]);
  });
});
