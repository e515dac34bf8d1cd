import { claimChangeProblems, volumeClaimsProvider } from "../../components/platform/volumeClaims";

const claim = (sizeGiB: number, storageClass = "") => ({ sizeGiB, storageClass, sizeKey: "rtdw:volumes.kafka", classKey: "rtdw:storageClass" });

describe("the claims guard: what a volume config change would do to data that exists", () => {
  it("lets a claim grow, a new replica's claim appear and a removed one go (it is retained, not deleted)", () => {
    expect(claimChangeProblems({ claims: { "data-kafka-0": claim(20), "data-kafka-1": claim(20) } }, { claims: { "data-kafka-0": claim(50), "data-kafka-2": claim(50) } })).toEqual([]);
    expect(claimChangeProblems(undefined, { claims: { "data-kafka-0": claim(1) } })).toEqual([]);
  });

  it("refuses a shrink and a storage class change, naming the key, the claim and what to do", () => {
    expect(claimChangeProblems({ claims: { "data-kafka-0": claim(50) } }, { claims: { "data-kafka-0": claim(20, "fast") } })).toEqual([
      "rtdw:volumes.kafka: claim data-kafka-0 holds 50Gi; 20Gi would shrink it, and a claim only grows (Kubernetes refuses a smaller request). Keep 50Gi or more",
      'rtdw:storageClass: claim data-kafka-0 is on storage class the cluster\'s default; moving it to "fast" would delete the claim and its data to make a new one. Keep the class, or move the data first (docs/operations.md, "Moving a volume to another storage class")',
    ]);
  });

  it("reports the refusals as check failures, which stop preview before anything changes", async () => {
    const r = await volumeClaimsProvider.check!({ claims: { "data-kafka-0": claim(50) } }, { claims: { "data-kafka-0": claim(10) } });
    expect(r.failures).toEqual([{ property: "claims", reason: expect.stringContaining("would shrink it") }]);
    expect((await volumeClaimsProvider.diff!("id", { claims: { a: claim(1) } }, { claims: { a: claim(2) } })).replaces).toEqual([]);
  });
});
