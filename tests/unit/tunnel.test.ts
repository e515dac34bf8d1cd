import { serviceOf, withApiAccess } from "../../components/platform/tunnel";

describe("reaching cluster APIs from the deploying machine", () => {
  it("recognises the in-cluster Service URLs the stacks hand the provider", () => {
    expect(serviceOf("http://flink-sql-gateway.rtdw.svc.cluster.local:8083")).toEqual({ service: "flink-sql-gateway", namespace: "rtdw", port: 8083 });
    expect(serviceOf("http://streampark.rtdw-test.svc:10000")).toEqual({ service: "streampark", namespace: "rtdw-test", port: 10000 });
    expect(serviceOf("http://127.0.0.1:28083")).toBeUndefined();
    expect(serviceOf("https://s3.eu-central-1.amazonaws.com")).toBeUndefined();
  });

  it("uses URLs as they are when there is no tunnel or nothing in-cluster to tunnel to (docker, S3)", async () => {
    const seen: string[] = [];
    await withApiAccess(["http://127.0.0.1:28083", "https://s3.eu-central-1.amazonaws.com"], { context: "prod" }, async (reach) => {
      seen.push(reach("http://127.0.0.1:28083"), reach("https://s3.eu-central-1.amazonaws.com"));
    });
    await withApiAccess(["http://flink-jobmanager.rtdw.svc:8081"], undefined, async (reach) => {
      seen.push(reach("http://flink-jobmanager.rtdw.svc:8081"));
    });
    expect(seen).toEqual(["http://127.0.0.1:28083", "https://s3.eu-central-1.amazonaws.com", "http://flink-jobmanager.rtdw.svc:8081"]);
  });

  it("fails plainly when a tunnel is needed but no kubeconfig context can reach the cluster", async () => {
    const prev = process.env.KUBECONFIG;
    process.env.KUBECONFIG = "/nonexistent/kubeconfig";
    try {
      await expect(withApiAccess(["http://flink-jobmanager.rtdw.svc:8081"], {}, async () => "unreachable")).rejects.toThrow(
        "could not reach http://flink-jobmanager.rtdw.svc:8081 through the Kubernetes API (context current): ENOENT: no such file or directory, open '/nonexistent/kubeconfig'",
      );
    } finally {
      if (prev === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = prev;
    }
  });
});
