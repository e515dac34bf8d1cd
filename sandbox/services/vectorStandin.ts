import * as fs from "fs";
import * as path from "path";
import { GEOIP_TEST_DATABASE, VRL_HARNESS_BIN } from "../install";
import { httpPost } from "./clients";
import { COLLECTOR_KAFKA_USER } from "../../components/pipelines/kafkaAccess";
import { kafkaUserPassword } from "../credentials";
import { BUCKETS, MINIO_ROOT_USER, REPO_ROOT, SandboxService, ServiceContext } from "./types";
import { ARCHIVE_BATCH_SECONDS } from "../../components/collector/vector";

/** The Vector stand-in (labelled: Vector cannot run here): sandbox/collector.ts runs the rendered Vector config's VRL programs. */
/** The stand-in's disk buffer: small enough that a test can fill it, like a full volume would. */
export const VECTOR_STANDIN_BUFFER_BYTES = 64 * 1024 * 1024;
/** The raw archive's buffer: when object storage is away, this fills and new lines are dropped and counted. */
export const VECTOR_STANDIN_ARCHIVE_BUFFER_BYTES = 16 * 1024 * 1024;

export function vectorStandinService({ p, s, dir }: ServiceContext): SandboxService {
  return {
    name: "vector-standin",
    port: "collector",
    after: ["kafka", "redis", "minio"],
    startupSeconds: 30,
    prepare() {
      if (!fs.existsSync(VRL_HARNESS_BIN)) throw new Error(`the VRL harness is not built (${VRL_HARNESS_BIN}); run: npm run sandbox -- install`);
      if (!fs.existsSync(GEOIP_TEST_DATABASE)) throw new Error(`the tests' GeoIP database is not written (${GEOIP_TEST_DATABASE}); run: npm run sandbox -- install`);
    },
    process: () => ({
      name: "vector-standin",
      command: process.execPath,
      args: ["--require", "@swc-node/register", path.join(REPO_ROOT, "sandbox", "collector.ts")],
      cwd: REPO_ROOT,
      env: {
        COLLECTOR_PORT: String(p.collector),
        KAFKA_BOOTSTRAP: `127.0.0.1:${p.kafka}`,
        KAFKA_USER: COLLECTOR_KAFKA_USER,
        KAFKA_PASSWORD: kafkaUserPassword(s, COLLECTOR_KAFKA_USER),
        REDIS_PORT: String(p.redis),
        REDISCLI_AUTH: s.redis,
        EVENTS_TOPIC: "tracking.events",
        DEAD_LETTER_TOPIC: "tracking.dead-letter",
        REPLAY_TOPIC: "tracking.replay",
        VRL_HARNESS_BIN,
        GEOIP_DATABASE: GEOIP_TEST_DATABASE,
        ARCHIVE_BUCKET: BUCKETS.archive,
        ARCHIVE_ENDPOINT: `http://127.0.0.1:${p.minio}`,
        // The session the writer takes is scoped to the archive writer policy (sandbox/archive.ts).
        ARCHIVE_STS_ACCESS_KEY: MINIO_ROOT_USER,
        ARCHIVE_STS_SECRET_KEY: s.minioRoot,
        ARCHIVE_BUFFER_BYTES: String(VECTOR_STANDIN_ARCHIVE_BUFFER_BYTES),
        ARCHIVE_BATCH_SECONDS: String(ARCHIVE_BATCH_SECONDS),
        VECTOR_DATA_DIR: dir("vector-standin"),
        VECTOR_BUFFER_BYTES: String(VECTOR_STANDIN_BUFFER_BYTES),
      },
    }),
    async healthy() {
      // An empty POST makes no event (as in Vector) and proves the server answers.
      return (await httpPost(`http://127.0.0.1:${p.collector}/`, "")).status === 200;
    },
  };
}
