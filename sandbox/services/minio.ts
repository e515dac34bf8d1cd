import * as path from "path";
import * as fs from "fs";
import { lifecycleRules, VERSIONED_BUCKETS } from "../../components/storage/types";
import { DEFAULT_ARCHIVE_DAYS } from "../../components/config";
import { ensureDir } from "../paths";
import { MINIO_BIN } from "../install";
import { httpGet } from "./clients";
import { BUCKETS, MINIO_ROOT_USER, SandboxService, ServiceContext, STATE_BUCKET } from "./types";
import { minioBackendUrl, parseS3Backend, pruneStateVersions } from "../stateBucket";

/** Versions of each stack file the sandbox's state bucket keeps (a restore needs the last few). */
const STATE_VERSIONS_KEPT = 50;

/** MinIO: the warehouse, checkpoint, StarRocks, backups and raw archive buckets. */
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
      // The stacks' state keeps its recent history, not every write of every `up` (it filled the disk once).
      const stacksDir = path.join(dir("minio"), STATE_BUCKET, ".pulumi", "stacks");
      const onDisk = fs.existsSync(stacksDir) ? fs.readdirSync(stacksDir).flatMap((project) => fs.readdirSync(path.join(stacksDir, project)).map((f) => `.pulumi/stacks/${project}/${f}`)) : [];
      const pruned = await pruneStateVersions(parseS3Backend(minioBackendUrl(STATE_BUCKET, p.minio))!, MINIO_ROOT_USER, s.minioRoot, STATE_VERSIONS_KEPT, onDisk);
      if (pruned) process.stderr.write(`[sandbox] state bucket: removed ${pruned} old versions of the stack files (the newest ${STATE_VERSIONS_KEPT} of each kept)\n`);
      // The archive's expiry, as the stacks set it: the rule MinIO accepts is the rule the stacks ship.
      const expiry = lifecycleRules("archive", 1, DEFAULT_ARCHIVE_DAYS).filter((r) => r.Filter.Prefix === "raw/");
      await client.setBucketLifecycle(BUCKETS.archive, { Rule: expiry.map((r) => ({ ID: r.ID, Status: r.Status, Filter: { Prefix: r.Filter.Prefix }, Expiration: { Days: r.Expiration!.Days } })) } as never);
    },
  };
}
