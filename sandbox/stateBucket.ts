import type { Client } from "minio";

/**
 * Pulumi state in object storage: a DIY backend (`s3://bucket[/prefix]?endpoint=…&region=…`) in a
 * versioned bucket. The stacks keep their state there, not on the deploying machine; a stack file
 * deleted or overwritten by accident is brought back from the bucket's versions (restoreStackState).
 * Layout of the DIY backend: <prefix>/.pulumi/stacks/<project>/<stack>.json.
 */

export interface S3Backend {
  readonly bucket: string;
  /** Key prefix inside the bucket, "" or ending in "/". */
  readonly prefix: string;
  /** http(s)://host:port of an S3-compatible store (MinIO); unset for AWS. */
  readonly endpoint?: string;
  readonly region: string;
}

/** The backend of an s3:// PULUMI_BACKEND_URL; undefined for any other kind. */
export function parseS3Backend(url: string): S3Backend | undefined {
  const m = /^s3:\/\/([^/?]+)(\/[^?]*)?(\?.*)?$/.exec(url);
  if (!m) return undefined;
  const q = new URLSearchParams((m[3] ?? "").slice(1));
  const prefix = (m[2] ?? "").replace(/^\/+/, "");
  return { bucket: m[1], prefix: prefix && !prefix.endsWith("/") ? `${prefix}/` : prefix, endpoint: q.get("endpoint") ?? undefined, region: q.get("region") ?? process.env.AWS_REGION ?? "us-east-1" };
}

/** The DIY backend URL of a MinIO bucket reached over plain HTTP on loopback. */
export function minioBackendUrl(bucket: string, port: number): string {
  return `s3://${bucket}?endpoint=http://127.0.0.1:${port}&s3ForcePathStyle=true&region=us-east-1`;
}

export function stateKey(b: S3Backend, project: string, stack: string): string {
  return `${b.prefix}.pulumi/stacks/${project}/${stack}.json`;
}

function client(b: S3Backend, accessKey: string, secretKey: string): Client {
  const Minio = require("minio") as typeof import("minio");
  const u = new URL(b.endpoint ?? `https://s3.${b.region}.amazonaws.com`);
  return new Minio.Client({ endPoint: u.hostname, port: Number(u.port) || (u.protocol === "https:" ? 443 : 80), useSSL: u.protocol === "https:", accessKey, secretKey, region: b.region, pathStyle: true });
}

export interface StateVersion {
  readonly versionId: string;
  readonly lastModified: Date;
  readonly deleteMarker: boolean;
}

/** The first page of a versioned listing (S3's and MinIO's default max-keys). */
const PAGE = 1000;

/** The stack state file's newest versions (up to a page of them), newest first. */
export async function stateVersions(b: S3Backend, project: string, stack: string, accessKey: string, secretKey: string): Promise<StateVersion[]> {
  const key = stateKey(b, project, stack);
  const found: StateVersion[] = [];
  const stream = client(b, accessKey, secretKey).listObjects(b.bucket, key, false, { IncludeVersion: true });
  let read = 0;
  for await (const o of stream as AsyncIterable<{ name?: string; versionId?: string | null; lastModified?: Date; isDeleteMarker?: boolean }>) {
    if (o.name === key && o.versionId) found.push({ versionId: o.versionId, lastModified: o.lastModified ?? new Date(0), deleteMarker: !!o.isDeleteMarker });
    // The first page holds the key's newest 1000 entries, which is all a restore needs. Reading on
    // (a state written by every `up` gets past 1000) fails in minio-js 8.0.7 against MinIO with "The
    // request signature we calculated does not match" (seen on the sandbox). Within a page minio-js
    // yields the versions first and the delete markers after them: the page is read whole.
    if (++read >= PAGE) break;
  }
  return found.sort((x, y) => y.lastModified.getTime() - x.lastModified.getTime());
}

/**
 * Brings a stack's state back when its current version is gone (deleted: the newest version is a
 * delete marker): the newest earlier version becomes current again. Returns what it did.
 */
export async function restoreStackState(b: S3Backend, project: string, stack: string, accessKey: string, secretKey: string): Promise<{ action: "present" | "restored" | "none"; version?: StateVersion }> {
  const versions = await stateVersions(b, project, stack, accessKey, secretKey);
  if (versions.length && !versions[0].deleteMarker) return { action: "present", version: versions[0] };
  const last = versions.find((v) => !v.deleteMarker);
  if (!last) return { action: "none" };
  const Minio = require("minio") as typeof import("minio");
  const key = stateKey(b, project, stack);
  await client(b, accessKey, secretKey).copyObject(
    new Minio.CopySourceOptions({ Bucket: b.bucket, Object: key, VersionID: last.versionId }),
    new Minio.CopyDestinationOptions({ Bucket: b.bucket, Object: key }),
  );
  return { action: "restored", version: last };
}

/**
 * Removes a stack's lock files (`.pulumi/locks/<org>/<project>/<stack>/`): what an interrupted
 * `pulumi up` leaves in a DIY backend, where `pulumi cancel` does not apply. Only for the sandbox's
 * throwaway stacks, never while a command of the stack runs. Returns how many it removed.
 */
export async function removeStackLocks(b: S3Backend, project: string, stack: string, accessKey: string, secretKey: string): Promise<number> {
  const c = client(b, accessKey, secretKey);
  const prefix = `${b.prefix}.pulumi/locks/`;
  const names: string[] = [];
  for await (const o of c.listObjects(b.bucket, prefix, true) as AsyncIterable<{ name?: string }>) {
    if (o.name && o.name.includes(`/${project}/${stack}/`)) names.push(o.name);
  }
  for (const n of names) await c.removeObject(b.bucket, n);
  return names.length;
}

/**
 * Keeps the newest `keep` versions of each stack file (`.pulumi/stacks/…`: the state and its .bak)
 * and removes the older ones. Every `pulumi up` writes the state many times, each a version of a few
 * MB: unpruned, the sandbox's versioned bucket grew to 50 GB and MinIO refused writes (its disk-full
 * threshold), checkpoints included. A page at a time (see stateVersions: minio-js cannot page further).
 * Returns how many versions it removed.
 */
export async function pruneStateVersions(b: S3Backend, accessKey: string, secretKey: string, keep: number, alsoKeys: readonly string[] = []): Promise<number> {
  const c = client(b, accessKey, secretKey);
  // A stack whose state was removed (its newest version a delete marker) lists no current object: its
  // older versions are found through `alsoKeys` (the sandbox reads them off MinIO's own directory).
  const keys = new Set(alsoKeys);
  for await (const o of c.listObjects(b.bucket, `${b.prefix}.pulumi/stacks/`, true) as AsyncIterable<{ name?: string }>) if (o.name) keys.add(o.name);
  let removed = 0;
  for (const key of keys) {
    for (;;) {
      const page: { versionId: string; lastModified: Date }[] = [];
      let read = 0;
      for await (const o of c.listObjects(b.bucket, key, false, { IncludeVersion: true }) as AsyncIterable<{ name?: string; versionId?: string | null; lastModified?: Date; isDeleteMarker?: boolean }>) {
        // Delete markers stay: removing the newest would bring a removed stack back.
        if (o.name === key && o.versionId && !o.isDeleteMarker) page.push({ versionId: o.versionId, lastModified: o.lastModified ?? new Date(0) });
        if (++read >= PAGE) break;
      }
      const old = page.sort((x, y) => y.lastModified.getTime() - x.lastModified.getTime()).slice(keep);
      if (!old.length) break;
      await c.removeObjects(b.bucket, old.map((v) => ({ name: key, versionId: v.versionId })));
      removed += old.length;
      if (read < PAGE) break;
    }
  }
  return removed;
}
