import { stateBackend } from "../../sandbox/engine";
import { pruneStateVersions, stateVersions } from "../../sandbox/stateBucket";

/**
 * The sandbox's versioned state bucket keeps the recent history of each stack file, not every write
 * (it had grown to 50 GB and MinIO refused writes): on the real MinIO, under a prefix of this test's own.
 */
describe("the state bucket's history is bounded", () => {
  const base = stateBackend()!;
  const s3 = { ...base.s3, prefix: `prune-test-${Date.now().toString(36)}/` };
  const key = `${s3.prefix}.pulumi/stacks/rtdw/gone.json`;
  const client = () => {
    const Minio = require("minio") as typeof import("minio");
    const u = new URL(s3.endpoint!);
    return new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey: base.accessKey, secretKey: base.secretKey, region: s3.region, pathStyle: true });
  };

  it("keeps the newest versions of each stack file, a removed stack's too, and drops the rest", async () => {
    const c = client();
    for (let i = 0; i < 12; i++) await c.putObject(s3.bucket, key, Buffer.from(JSON.stringify({ version: i })));
    await c.putObject(s3.bucket, `${s3.prefix}.pulumi/stacks/rtdw/kept.json`, Buffer.from("{}"));
    // The stack removed (as the tests' forgetStack does): its newest version is a delete marker.
    await c.removeObject(s3.bucket, key);
    expect(await pruneStateVersions(s3, base.accessKey, base.secretKey, 5)).toBe(0); // not listed as a current object: found only by name
    expect(await pruneStateVersions(s3, base.accessKey, base.secretKey, 5, [key])).toBe(7);
    const left = await stateVersions(s3, "rtdw", "gone", base.accessKey, base.secretKey);
    expect(left.filter((v) => !v.deleteMarker)).toHaveLength(5);
    // The newest kept version is the last write: a restore brings back the latest state.
    const newest = left.find((v) => !v.deleteMarker)!;
    const body = await c.getObject(s3.bucket, key, { versionId: newest.versionId });
    let text = "";
    for await (const chunk of body) text += chunk;
    expect(JSON.parse(text)).toEqual({ version: 11 });
  });
});
