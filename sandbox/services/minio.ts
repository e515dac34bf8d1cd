import { VERSIONED_BUCKETS } from "../../components/storage/types";
import { ensureDir } from "../paths";
import { MINIO_BIN } from "../install";
import { httpGet } from "./clients";
import { BUCKETS, MINIO_ROOT_USER, SandboxService, ServiceContext, STATE_BUCKET } from "./types";

/** MinIO: the warehouse, checkpoint and StarRocks buckets. */
export function minioService({ p, s, dir }: ServiceContext): SandboxService {
  return {
    name: "minio",
    port: "minio",
    after: [],
    startupSeconds: 60,
    prepare() {
      ensureDir(dir("minio"));
    },
    process: () => ({
      name: "minio",
      command: MINIO_BIN,
      args: ["server", dir("minio"), "--address", `127.0.0.1:${p.minio}`, "--console-address", `127.0.0.1:${p.minioConsole}`, "--quiet"],
      env: { MINIO_ROOT_USER, MINIO_ROOT_PASSWORD: s.minioRoot, MINIO_BROWSER: "off" },
    }),
    async healthy() {
      return (await httpGet(`http://127.0.0.1:${p.minio}/minio/health/ready`)).status === 200;
    },
    async bootstrap() {
      const Minio = await import("minio");
      const client = new Minio.Client({ endPoint: "127.0.0.1", port: p.minio, useSSL: false, accessKey: MINIO_ROOT_USER, secretKey: s.minioRoot });
      // Versioned where it serves recovery (the stacks' rule, components/storage/types.ts), and the state bucket.
      const versioned = new Set([...VERSIONED_BUCKETS.map((r) => BUCKETS[r]), STATE_BUCKET]);
      for (const b of [...Object.values(BUCKETS), STATE_BUCKET]) {
        if (!(await client.bucketExists(b))) await client.makeBucket(b, "us-east-1");
        await client.setBucketVersioning(b, { Status: versioned.has(b) ? "Enabled" : "Suspended" });
      }
    },
  };
}
