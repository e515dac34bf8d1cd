import { nodePool, NODE_RESERVED } from "../../components/config/nodePool";
import { shippedStacks } from "../../scripts/docs";

describe("the node pool each Kubernetes stack needs, derived from its sizing", () => {
  const stacks = shippedStacks();

  it.each(["test", "prod"] as const)("%s: every pod fits, replicas of one service on different nodes", (name) => {
    const cfg = stacks[name];
    const pool = nodePool(cfg.sizing, name);
    expect(pool.nodes).toBeGreaterThanOrEqual(Math.max(cfg.sizing.kafka.replicas, cfg.sizing.starrocksFe.replicas));
    const allocatable = pool.nodes * (pool.shape.memoryGiB - NODE_RESERVED.memoryGiB) * 1024;
    expect(pool.pods.reduce((a, p) => a + p.memoryMiB, 0)).toBeLessThan(allocatable);
    // The sidecars ride in their host's pod: PostgreSQL's carries its backup sidecar's requests.
    const pg = pool.pods.find((p) => p.service === "postgres")!;
    expect(pg.memoryMiB).toBe(cfg.sizing.postgres.memoryMiB + cfg.sizing.postgresBackup.memoryMiB);
    expect(pool.pods.some((p) => p.service === "postgresBackup")).toBe(false);
  });

  it("grows with the sizing and refuses a pod no node can hold", () => {
    const prod = stacks.prod;
    const bigger = nodePool({ ...prod.sizing, starrocksCn: { ...prod.sizing.starrocksCn, replicas: 8 } }, "prod");
    expect(bigger.nodes).toBeGreaterThan(nodePool(prod.sizing, "prod").nodes);
    expect(() => nodePool({ ...prod.sizing, starrocksCn: { ...prod.sizing.starrocksCn, memoryMiB: 200 * 1024 } }, "prod")).toThrow(/a starrocksCn pod \(8 CPU, 200Gi\) does not fit a prod node/);
  });
});
