import { ofType, Registered, runStack } from "../helpers/mocks";
import { validateKubernetesObject } from "../helpers/k8s-schema";
import { stackFileConfig } from "../helpers/config";
import { dockerAllocationProblems } from "../helpers/docker";
import { PUBLISHED_PORTS } from "../../components/config";

const K8S = {
  ns: "kubernetes:core/v1:Namespace",
  sts: "kubernetes:apps/v1:StatefulSet",
  deploy: "kubernetes:apps/v1:Deployment",
  svc: "kubernetes:core/v1:Service",
  cm: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  job: "kubernetes:batch/v1:Job",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
};
const DOCKER = { ctr: "docker:index/container:Container", vol: "docker:index/volume:Volume", net: "docker:index/network:Network" };

type Run = Awaited<ReturnType<typeof runStack>>;
const byName = (all: Registered[], type: string, name: string) => {
  const r = all.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} named ${name}; have ${all.filter((x) => x.type === type).map((x) => x.name).join(", ")}`);
  return r;
};
const envOf = (container: any): Record<string, any> => Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));

/** Every string found anywhere in a value. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === "object") Object.values(v).forEach((x) => strings(x, out));
  return out;
}

function secretValues(run: Run): string[] {
  const c = run.credentials as any;
  return [
    c.objectStore.secretKey,
    c.redis.password,
    ...Object.values(c.kafka.users),
    c.streampark.adminPassword,
    c.starrocks.rootPassword,
    ...Object.values(c.postgres).map((p: any) => p.password),
    c.observability.prometheusPassword,
    c.observability.grafanaAdminPassword,
  ];
}

describe.each(["test", "prod"])("%s stack on Kubernetes", (stack) => {
  let run: Run;
  beforeAll(async () => {
    run = await runStack(stack, {
      imageRegistry: "registry.example.com/rtdw",
      ...(stack === "test" ? { namespace: "rtdw-test", objectStore: "minio" } : { objectStore: "s3", awsRegion: "eu-central-1" }),
    });
  });

  it("runs the stateful services as StatefulSets with claims and the rest as Deployments, each behind a Service", () => {
    expect(ofType(run.registered, K8S.ns)).toHaveLength(1);
    const sts = ofType(run.registered, K8S.sts).map((r) => r.inputs.metadata.name).sort();
    expect(sts).toEqual([...(stack === "test" ? ["minio"] : []), "alertmanager", "grafana", "kafka", "postgres", "prometheus", "redis", "starrocks-cn", "starrocks-fe", "vector"].sort());
    for (const s of ofType(run.registered, K8S.sts)) {
      expect(s.inputs.spec.volumeClaimTemplates.length).toBeGreaterThan(0);
      expect(s.inputs.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    }
    const deploys = ofType(run.registered, K8S.deploy).map((r) => r.inputs.metadata.name).sort();
    // A session cluster per job (its JobManager(s), TaskManagers and exporter), one SQL Gateway for all.
    const clusters = run.cfg.flink.jobClusters.flatMap((c) => [`${c.name}-job-exporter`, `${c.name}-jobmanager`, `${c.name}-taskmanager`]);
    expect(clusters).toHaveLength(3 * run.cfg.jobs.length);
    expect(deploys).toEqual([...clusters, "flink-sql-gateway", "kafka-exporter", "nginx", "nginx-exporter", "postgres-exporter", "redis-exporter", "streampark"].sort());
    expect(ofType(run.registered, K8S.svc).map((r) => r.inputs.metadata.name).sort()).toEqual([...sts, ...deploys].sort());
  });

  it("gives every replica's volume a claim resource of the name its StatefulSet mounts, sized by rtdw:volumes, guarded against shrinking", () => {
    const claims = ofType(run.registered, "kubernetes:core/v1:PersistentVolumeClaim");
    const want = ofType(run.registered, K8S.sts).flatMap((s) =>
      s.inputs.spec.volumeClaimTemplates.flatMap((t: any) => Array.from({ length: s.inputs.spec.replicas }, (_, i) => `${t.metadata.name}-${s.inputs.metadata.name}-${i}`)),
    );
    expect(claims.map((c) => c.inputs.metadata.name).sort()).toEqual(want.sort());
    const kafka0 = claims.find((c) => c.inputs.metadata.name === "data-kafka-0")!;
    expect(kafka0.inputs.spec.resources.requests.storage).toBe(`${run.cfg.volumesGiB.kafka}Gi`);
    const guard = run.registered.find((r) => r.type === "pulumi-nodejs:dynamic/rtdw:VolumeClaims" && r.name === "kafka-claims-guard")!;
    expect(Object.keys(guard.inputs.claims).sort()).toEqual(["data-kafka-0", "data-kafka-1", "data-kafka-2"]);
    expect(guard.inputs.claims["data-kafka-0"]).toEqual({ sizeGiB: run.cfg.volumesGiB.kafka, storageClass: "", sizeKey: "rtdw:volumes.kafka", classKey: "rtdw:storageClass" });
  });

  it("every Kubernetes object validates against the Kubernetes OpenAPI schema", () => {
    const objects = run.registered.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes");
    expect(objects.length).toBeGreaterThan(8);
    for (const o of objects) {
      try {
        validateKubernetesObject(o);
      } catch (e) {
        throw new Error(`${o.type} ${o.name}: ${(e as Error).message}`);
      }
    }
  });

  it("sizes containers from config: requests and limits, memory request = limit", () => {
    const pg = byName(run.registered, K8S.sts, "postgres-sts").inputs.spec.template.spec.containers[0];
    const s = run.cfg.sizing.postgres;
    expect(pg.resources.limits.memory).toBe(`${s.memoryMiB / 1024}Gi`);
    expect(pg.resources.requests.memory).toBe(pg.resources.limits.memory);
    expect(pg.resources.requests.cpu).toBe(String(s.cpuRequest).includes(".") ? `${s.cpuRequest * 1000}m` : String(s.cpuRequest));
  });

  it("hardens every pod: non-root, no privilege escalation, ALL capabilities dropped, RuntimeDefault seccomp", () => {
    const pods = [...ofType(run.registered, K8S.sts), ...ofType(run.registered, K8S.deploy), ...ofType(run.registered, K8S.job)].map(
      (w) => w.inputs.spec.template.spec,
    );
    expect(pods.length).toBeGreaterThanOrEqual(3);
    // Upstream images that only run as root (documented in their components): everything else must not.
    const rootImages = [run.cfg.images.streampark, run.cfg.images.starrocksFe, run.cfg.images.starrocksCn, "/streampark@", "/vector@"];
    for (const pod of pods) {
      expect(pod.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
      if (!pod.securityContext.runAsNonRoot) {
        expect(rootImages.some((i) => String(pod.containers[0].image).includes(i))).toBe(true);
      }
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ["ALL"] } });
      }
    }
  });

  it("wires services by their outputs: the bootstrap jobs reach the servers at the Service DNS names", () => {
    const ns = run.cfg.namespace;
    const pgJob = ofType(run.registered, K8S.job).find((j) => j.name.startsWith("postgres-bootstrap"))!;
    expect(envOf(pgJob.inputs.spec.template.spec.containers[0]).PGHOST).toBe(`postgres.${ns}.svc.cluster.local`);
    expect(run.endpoints.postgres.host).toBe(`postgres.${ns}.svc.cluster.local`);
    expect(run.endpoints.postgres.databases.paimon.jdbcUrl).toBe(`jdbc:postgresql://postgres.${ns}.svc.cluster.local:5432/paimon_catalog`);
    expect(run.endpoints.redis.host).toBe(`redis.${ns}.svc.cluster.local`);
  });

  it("keeps every secret out of ConfigMaps, plain env values, labels, annotations and the endpoints output", () => {
    const secrets = secretValues(run);
    expect(secrets.every((s) => typeof s === "string" && s.length >= 16)).toBe(true);
    const exposed: string[] = [];
    for (const r of run.registered.filter((x) => x.type.startsWith("kubernetes:"))) {
      const meta = r.inputs.metadata ?? {};
      exposed.push(...strings(meta.labels), ...strings(meta.annotations));
      if (r.type === K8S.cm) exposed.push(...strings(r.inputs.data));
      const pod = r.inputs.spec?.template?.spec;
      for (const c of pod?.containers ?? []) {
        exposed.push(...(c.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => e.value), ...strings(c.args), ...strings(c.command));
      }
    }
    exposed.push(...strings(run.endpoints));
    for (const s of secrets) expect(exposed.filter((e) => e.includes(s))).toEqual([]);
    // ... and they do reach the pods through Secrets.
    const secretData = ofType(run.registered, K8S.secret).flatMap((r) => strings(r.inputs.stringData));
    expect(secretData.some((d) => d.includes(run.credentials.redis.password))).toBe(true);
    expect(run.credentialsSecret).toBe(true);
  });

  it("NetworkPolicies deny by default both ways and open only the collector's public port to anyone (the flow matrix: tests/integration/kubernetes-api.test.ts)", () => {
    const policies = ofType(run.registered, K8S.netpol);
    const deny = policies.find((p) => p.inputs.metadata.name === "default-deny")!;
    expect(deny.inputs.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const open = policies.flatMap((p) => (p.inputs.spec.ingress ?? []).filter((r: any) => !r.from).map((r: any) => ({ policy: p.inputs.metadata.name, ports: r.ports })));
    expect(open).toEqual([{ policy: "nginx-ingress", ports: [{ port: 8080, protocol: "TCP" }] }]);
    for (const p of policies) {
      for (const r of p.inputs.spec.ingress ?? []) for (const f of r.from ?? []) expect(f.podSelector.matchLabels["app.kubernetes.io/instance"]).toBe(run.cfg.stack);
    }
  });
});

describe("prod protects stateful resources and uses S3", () => {
  let run: Run;
  beforeAll(async () => {
    run = await runStack("prod", { objectStore: "s3", awsRegion: "eu-central-1", bucketPrefix: "acme-rtdw", imageRegistry: "registry.example.com/rtdw" });
  });

  it("creates five encrypted, private buckets; versioning only where it serves recovery (checkpoints), delete markers and old versions expire, the raw archive after 30 days", () => {
    const buckets = ofType(run.registered, "aws:s3/bucket:Bucket").map((b) => b.inputs.bucket).sort();
    expect(buckets).toEqual(["acme-rtdw-archive", "acme-rtdw-backups", "acme-rtdw-checkpoints", "acme-rtdw-starrocks", "acme-rtdw-warehouse"]);
    const versioning = Object.fromEntries(ofType(run.registered, "aws:s3/bucketVersioning:BucketVersioning").map((v) => [v.name, v.inputs.versioningConfiguration.status]));
    // pgBackRest expires its own backups and WAL by retention: versions would only keep what it deleted.
    expect(versioning).toEqual({ "objectstore-checkpoints-versioning": "Enabled", "objectstore-warehouse-versioning": "Suspended", "objectstore-starrocks-versioning": "Suspended", "objectstore-backups-versioning": "Suspended", "objectstore-archive-versioning": "Suspended" });
    expect(ofType(run.registered, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")).toHaveLength(5);
    const archiveRules = ofType(run.registered, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").find((l) => l.name === "objectstore-archive-lifecycle")!.inputs.rules;
    expect(archiveRules[1]).toEqual({ id: "expire-raw-archive", status: "Enabled", filter: { prefix: "raw/" }, expiration: { days: 30 } });
    expect(ofType(run.registered, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").every((b) => b.inputs.restrictPublicBuckets)).toBe(true);
    const rules = Object.fromEntries(ofType(run.registered, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").map((l) => [l.name, l.inputs.rules[0]]));
    expect(rules["objectstore-checkpoints-lifecycle"].noncurrentVersionExpiration.noncurrentDays).toBe(30);
    expect(rules["objectstore-warehouse-lifecycle"].noncurrentVersionExpiration.noncurrentDays).toBe(1);
    for (const r of Object.values(rules)) expect((r as { expiration: { expiredObjectDeleteMarker: boolean } }).expiration.expiredObjectDeleteMarker).toBe(true);
    expect(run.endpoints.objectStore).toMatchObject({ kind: "s3", region: "eu-central-1", pathStyle: false, endpoint: "https://s3.eu-central-1.amazonaws.com" });
  });

  it("gives the application, PostgreSQL's backups and the collector's archive writer each an IAM identity limited to their buckets", () => {
    const policies = Object.fromEntries(ofType(run.registered, "aws:iam/userPolicy:UserPolicy").map((p) => [p.name, JSON.parse(p.inputs.policy)]));
    const buckets = (name: string) => [...new Set(policies[name].Statement.flatMap((s: any) => [].concat(s.Resource)).filter((r: string) => r !== "*").map((r: string) => r.replace(/\/\*$/, "")))].sort();
    // Mock ARNs are the bucket resources' names.
    expect(buckets("objectstore-app-policy")).toEqual(["arn:aws:s3:::acme-rtdw-archive", "arn:aws:s3:::acme-rtdw-checkpoints", "arn:aws:s3:::acme-rtdw-starrocks", "arn:aws:s3:::acme-rtdw-warehouse"]);
    // The application only reads the archive (a replay); the lifecycle, not a client, deletes it.
    const onArchive = (name: string) => policies[name].Statement.filter((s: any) => [].concat(s.Resource).some((r: string) => r.startsWith("arn:aws:s3:::acme-rtdw-archive"))).flatMap((s: any) => s.Action).sort();
    expect(onArchive("objectstore-app-policy")).toEqual(["s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket"]);
    expect(buckets("objectstore-backup-policy")).toEqual(["arn:aws:s3:::acme-rtdw-backups"]);
    // Vector writes new objects under raw/ and can neither read, overwrite elsewhere nor delete.
    expect(policies["objectstore-archive-policy"].Statement.filter((s: any) => s.Action.includes("s3:PutObject")).map((s: any) => s.Resource)).toEqual([["arn:aws:s3:::acme-rtdw-archive/raw/*"]]);
    expect(onArchive("objectstore-archive-policy")).toEqual(["s3:GetBucketLocation", "s3:ListBucket", "s3:PutObject"]);
    for (const p of Object.values(policies)) expect(p.Statement.flatMap((s: any) => s.Action)).not.toContain("s3:*");
    expect(run.credentials.objectStore.secretKey).toBe("aws-secret-objectstore-app-key");
  });

  it("runs the lakehouse upkeep beside the SQL Gateway: its statements (catalog credentials inside) only from the Secret, its schedule from rtdw:lakehouse", () => {
    const gw = ofType(run.registered, K8S.deploy).find((d) => d.inputs.metadata.name === "flink-sql-gateway")!;
    const upkeep = gw.inputs.spec.template.spec.containers.find((c: any) => c.name === "lakehouse-upkeep");
    expect(upkeep.image).toBe("curlimages/curl:8.11.1");
    expect(upkeep.command).toEqual(["sh", "/etc/rtdw-upkeep/upkeep.sh"]);
    const env = envOf(upkeep);
    expect(env.SQL_GATEWAY_URL).toBe("http://127.0.0.1:8083");
    expect(env.UPKEEP_EVERY_SECONDS).toBe("86400");
    expect(env.ORPHAN_OLDER_THAN_SECONDS).toBe("86400");
    expect(env.UPKEEP_STATEMENTS.secretKeyRef).toBeDefined();
    const statements = ofType(run.registered, K8S.secret).map((x) => x.inputs.stringData?.["env.UPKEEP_STATEMENTS"]).find(Boolean) as string;
    expect(statements).toContain("ods.tracking_events: expire partitions older than 90 d\t");
    expect(statements).not.toContain("${secret:");
    const script = ofType(run.registered, K8S.cm).map((c) => c.inputs.data?.["upkeep.sh"]).find(Boolean) as string;
    expect(script).toMatch(/^#!\/bin\/sh/);
    for (const v of secretValues(run)) expect(strings(ofType(run.registered, K8S.cm).map((c) => c.inputs))).not.toContain(v);
    // StarRocks' materialized views refresh as the same policy says (prod: every 5 minutes).
    const bootstrap = ofType(run.registered, K8S.job).flatMap((j) => j.inputs.spec.template.spec.containers).find((c: any) => envOf(c).MV_REFRESH_MINUTES !== undefined);
    expect(envOf(bootstrap).MV_REFRESH_MINUTES).toBe("5");
  });

  it("archives PostgreSQL's WAL and backs it up to the backups bucket over HTTPS with the backup identity, encrypted", () => {
    const pg = ofType(run.registered, K8S.sts).find((s) => s.inputs.metadata.name === "postgres")!;
    const [server, backup] = pg.inputs.spec.template.spec.containers;
    expect(backup.name).toBe("backup");
    expect(server.args.join(" ")).toMatch(/archive_mode=on -c archive_command=pgbackrest --config=\/etc\/rtdw-backup\/pgbackrest.conf --stanza=rtdw archive-push %p -c archive_timeout=60/);
    const conf = ofType(run.registered, K8S.cm).map((c) => c.inputs.data?.["pgbackrest.conf"]).find(Boolean) as string;
    expect(conf).toMatch(/repo1-s3-endpoint=s3.eu-central-1.amazonaws.com/);
    expect(conf).toMatch(/repo1-storage-port=443/);
    expect(conf).toMatch(/repo1-storage-verify-tls=y/);
    expect(conf).toMatch(/repo1-s3-bucket=acme-rtdw-backups/);
    expect(conf).toMatch(/repo1-cipher-type=aes-256-cbc/);
    expect(conf).toMatch(/repo1-retention-full=4/);
    expect(conf).not.toMatch(/s3-key|key-secret|cipher-pass/);
    // Both containers read the keys and passphrase from the Secret, never from a file or a plain value.
    for (const c of [server, backup]) {
      const secretEnv = c.env.filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name);
      expect(secretEnv).toEqual(expect.arrayContaining(["PGBACKREST_REPO1_S3_KEY", "PGBACKREST_REPO1_S3_KEY_SECRET", "PGBACKREST_REPO1_CIPHER_PASS"]));
      expect(c.env.filter((e: any) => e.name.startsWith("PGBACKREST_REPO1") && e.value !== undefined)).toEqual([]);
    }
    // With S3 there is no hop to MinIO: the sidecar runs the scheduler only.
    expect(backup.command.join(" ")).not.toMatch(/s3-tls-hop/);
  });

  it("runs no MinIO in prod when S3 is chosen", () => {
    expect(ofType(run.registered, K8S.sts).map((s) => s.inputs.metadata.name)).not.toContain("minio");
  });
});

describe("dev stack on Docker (Pulumi.dev.yaml, as the README's `pulumi up --stack dev` runs it)", () => {
  let run: Run;
  beforeAll(async () => {
    run = await runStack("dev", stackFileConfig("dev"));
  });

  it("is accepted by Docker's allocation rules: no container name, host address and port used twice", () => {
    const containers = ofType(run.registered, DOCKER.ctr).map((c) => ({ name: c.inputs.name, networkMode: c.inputs.networkMode, ports: c.inputs.ports }));
    expect(containers.length).toBeGreaterThan(19);
    expect(dockerAllocationProblems(containers)).toEqual([]);
    // Docker refuses a volume name twice as well: two services would share (and corrupt) one volume.
    const volumes = ofType(run.registered, DOCKER.vol).map((v) => v.inputs.name);
    expect(new Set(volumes).size).toBe(volumes.length);
  });

  it("the allocation check fails on what Docker refuses: the same port (or one on 0.0.0.0), a name twice, ports on a shared network namespace", () => {
    expect(
      dockerAllocationProblems([
        { name: "a", ports: [{ internal: 8081, external: 8081, ip: "127.0.0.1" }] },
        { name: "b", ports: [{ internal: 8081, external: 8081, ip: "127.0.0.1" }, { internal: 53, external: 8081, ip: "127.0.0.1", protocol: "udp" }] },
        { name: "c", ports: [{ internal: 1, external: 8081 }] },
        { name: "a", networkMode: "container:x", ports: [{ internal: 2 }] },
      ]),
    ).toEqual([
      "b: Bind for 127.0.0.1:8081 failed: port is already allocated (by a)",
      "c: Bind for 0.0.0.0:8081 failed: port is already allocated (by a)",
      'Conflict. The container name "/a" is already in use',
      "a: conflicting options: port publishing and the container type network mode",
    ]);
  });

  it("publishes exactly the documented endpoints, each on its own loopback port, and the providers call those", () => {
    const published = ofType(run.registered, DOCKER.ctr).flatMap((c) => (c.inputs.ports ?? []).map((p: any) => ({ service: c.inputs.hostname, internal: p.internal, external: p.external, ip: p.ip })));
    expect(published.every((p) => p.ip === "127.0.0.1")).toBe(true);
    expect(published.map((p) => p.external).sort()).toEqual(PUBLISHED_PORTS.map((p) => p.hostPort).sort());
    // The exporters, Kafka, Redis, Vector and the Flink RPC ports stay on the private network.
    expect(published.map((p) => p.service)).not.toEqual(expect.arrayContaining(["kafka"]));
    expect(published.filter((p) => ["kafka", "redis", "vector", "flink-taskmanager", "starrocks-cn"].includes(p.service) || String(p.service).endsWith("-exporter"))).toEqual([]);
    // Grafana provisioning and the jobs' provider reach the published ports from the deploying machine.
    const grafana = run.registered.find((r) => r.type === "pulumi-nodejs:dynamic/rtdw:GrafanaProvisioning")!;
    expect(JSON.stringify(grafana.inputs)).toContain("http://127.0.0.1:3000");
  });

  it("moves a published port with rtdw:hostPorts and refuses two endpoints on one host port at preview", async () => {
    const moved = await runStack("dev", { ...stackFileConfig("dev"), hostPorts: JSON.stringify({ postgres: 15432, flink: 18081 }) });
    const pg = ofType(moved.registered, DOCKER.ctr).find((c) => c.inputs.hostname === "postgres")!;
    expect(pg.inputs.ports).toEqual([{ internal: 5432, external: 15432, ip: "127.0.0.1", protocol: "tcp" }]);
    // The jobs' provider follows: it calls the JobManager where the laptop publishes it.
    const job = ofType(moved.registered, "pulumi-nodejs:dynamic/rtdw:FlinkSqlJob")[0];
    expect(JSON.stringify(job.inputs)).toContain("http://127.0.0.1:18081");
    expect(JSON.stringify(job.inputs)).not.toContain("127.0.0.1:8081");
    await expect(runStack("dev", { ...stackFileConfig("dev"), hostPorts: JSON.stringify({ postgres: 8080 }) })).rejects.toThrow(
      "rtdw:hostPorts: collector and postgres would both publish host port 8080; Docker refuses the second container",
    );
    await expect(runStack("dev", { ...stackFileConfig("dev"), hostPorts: JSON.stringify({ kafka: 19092 }) })).rejects.toThrow(/rtdw:hostPorts.kafka/);
  });

  it("creates a private network, named volumes and one container per service, published on 127.0.0.1 only", () => {
    expect(ofType(run.registered, DOCKER.net)).toHaveLength(1);
    const services = ofType(run.registered, DOCKER.ctr).filter((c) => c.inputs.restart === "unless-stopped" && !c.inputs.networkMode);
    // PostgreSQL's backup sidecar joins its network namespace (the TLS hop on loopback) and mounts its volume.
    const sidecar = ofType(run.registered, DOCKER.ctr).find((c) => c.name === "postgres-backup-ctr")!;
    const pg = services.find((c) => c.inputs.hostname === "postgres")!;
    expect(sidecar.inputs.networkMode).toMatch(/^container:/);
    expect(sidecar.inputs.volumes).toEqual(pg.inputs.volumes);
    expect(sidecar.inputs.ports).toBeUndefined();
    expect(services.map((c) => c.inputs.hostname).sort()).toEqual(
      [
        "alertmanager", "flink-job-exporter", "flink-jobmanager", "flink-sql-gateway", "flink-taskmanager", "grafana", "kafka", "kafka-exporter", "minio", "nginx", "nginx-exporter",
        "postgres", "postgres-exporter", "prometheus", "redis", "redis-exporter", "starrocks-cn", "starrocks-fe", "streampark", "vector",
      ],
    );
    for (const c of services) {
      expect(c.inputs.ports.every((p: any) => p.ip === "127.0.0.1")).toBe(true);
      expect(c.inputs.healthcheck.tests.length).toBeGreaterThan(1);
      expect(c.inputs.capabilities).toEqual({ drops: ["ALL"] });
      expect(c.inputs.securityOpts).toContain("no-new-privileges:true");
    }
    expect(ofType(run.registered, DOCKER.vol).map((v) => v.inputs.name).sort()).toEqual([
      "rtdw-dev-alertmanager-data",
      "rtdw-dev-grafana-data",
      "rtdw-dev-kafka-data",
      "rtdw-dev-minio-data",
      "rtdw-dev-postgres-data",
      "rtdw-dev-prometheus-data",
      "rtdw-dev-redis-data",
      "rtdw-dev-starrocks-cn-cache",
      "rtdw-dev-starrocks-fe-meta",
      "rtdw-dev-vector-data",
    ]);
    expect(ofType(run.registered, K8S.ns)).toHaveLength(0);
  });

  it("sizes containers from config and wires the bootstrap tasks to the servers' host names", () => {
    const pg = ofType(run.registered, DOCKER.ctr).find((c) => c.inputs.hostname === "postgres")!;
    expect(pg.inputs.memory).toBe(run.cfg.sizing.postgres.memoryMiB);
    expect(pg.inputs.cpuShares).toBe(Math.round(run.cfg.sizing.postgres.cpuRequest * 1024));
    const task = ofType(run.registered, DOCKER.ctr).find((c) => c.name.startsWith("postgres-bootstrap"))!;
    expect(task.inputs.envs).toContain("PGHOST=postgres");
    expect(run.endpoints.objectStore).toMatchObject({ kind: "minio", endpoint: "http://minio:9000", pathStyle: true });
  });

  it("puts Redis's password only in a secret config file, never on a command line", () => {
    const redis = ofType(run.registered, DOCKER.ctr).find((c) => c.inputs.hostname === "redis")!;
    expect(strings(redis.inputs.command).join(" ")).not.toContain(run.credentials.redis.password);
    expect(redis.inputs.uploads[0].content).toContain(`requirepass ${run.credentials.redis.password}`);
    expect(redis.inputs.uploads[0].permissions).toBe("0440");
    expect(redis.secretPaths.some((p) => p === "uploads" || p.startsWith("uploads[0]"))).toBe(true);
  });

  it("passes secret environment values to containers as Pulumi secrets", () => {
    const pg = ofType(run.registered, DOCKER.ctr).find((c) => c.inputs.hostname === "postgres")!;
    const i = pg.inputs.envs.findIndex((e: string) => e.startsWith("POSTGRES_PASSWORD="));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(pg.secretPaths.some((p) => p === "envs" || p === `envs[${i}]`)).toBe(true);
  });
});

describe("config errors fail before any resource is registered", () => {
  it("a bad value throws ConfigError and the mock engine saw nothing", async () => {
    await expect(runStack("dev", { target: "nomad" })).rejects.toThrow(/rtdw:target: expected "docker"/);
  });
});

describe("streaming and analytics services on prod", () => {
  let run: Run;
  beforeAll(async () => {
    run = await runStack("prod", { objectStore: "s3", awsRegion: "eu-central-1", imageRegistry: "registry.example.com/rtdw" });
  });
  const container = (name: string, type = K8S.deploy) =>
    byName(run.registered, type, `${name}-${type === K8S.sts ? "sts" : "deploy"}`).inputs.spec.template.spec.containers[0];

  it("Kafka: three KRaft nodes, replication 3 / min ISR 2, auto-creation off, TLS on every listener, SCRAM for clients, the super user's JAAS in a Secret", () => {
    const sts = byName(run.registered, K8S.sts, "kafka-sts").inputs;
    expect(sts.spec.replicas).toBe(3);
    const env = envOf(sts.spec.template.spec.containers[0]);
    expect(env).toMatchObject({ KAFKA_DEFAULT_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "2", KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false" });
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe([0, 1, 2].map((i) => `${i + 1}@kafka-${i}.kafka.rtdw.svc.cluster.local:9093`).join(","));
    expect(env.KAFKA_LISTENER_NAME_INTERNAL_PLAIN_SASL_JAAS_CONFIG.secretKeyRef).toBeDefined();
    expect(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).toBe("CLIENT:SASL_SSL,INTERNAL:SASL_SSL,CONTROLLER:SASL_SSL");
    expect(env).toMatchObject({
      KAFKA_LISTENER_NAME_CLIENT_SASL_ENABLED_MECHANISMS: "SCRAM-SHA-512",
      KAFKA_INTER_BROKER_LISTENER_NAME: "INTERNAL",
      KAFKA_AUTHORIZER_CLASS_NAME: "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND: "false",
      KAFKA_SSL_KEYSTORE_TYPE: "PEM",
      KAFKA_SSL_KEYSTORE_LOCATION: "/etc/kafka/tls/keystore.pem",
    });
    // The broker's key travels in a Secret, never in a ConfigMap or the pod spec.
    const cert = byName(run.registered, "pulumi-nodejs:dynamic/rtdw:ServerCertificate", "kafka-tls");
    expect(cert.inputs.dnsNames).toContain("*.kafka.rtdw.svc.cluster.local");
    const secrets = ofType(run.registered, K8S.secret).filter((s) => s.name.startsWith("kafka-"));
    expect(secrets.some((s) => Object.keys(s.inputs.stringData ?? {}).includes("file0.keystore.pem"))).toBe(true);
    const access = ofType(run.registered, K8S.cm).find((c) => c.inputs.data?.["access.txt"])!;
    expect(access.inputs.data["access.txt"]).toContain("allow rt-trk-ods topic literal tracking.events Read");
    expect(access.inputs.data["access.txt"]).toContain("allow rtdw-collector topic literal tracking.dead-letter Write");
    const accessJob = ofType(run.registered, K8S.job).find((j) => j.name.startsWith("kafka-access"))!;
    expect(envOf(accessJob.inputs.spec.template.spec.containers[0])).toMatchObject({ ADMIN_SECURITY_PROTOCOL: "SASL_SSL", BOOTSTRAP: "kafka.rtdw.svc.cluster.local:9094" });
    const topics = ofType(run.registered, K8S.job).find((j) => j.name.startsWith("kafka-topics"))!;
    const cm = ofType(run.registered, K8S.cm).find((c) => c.inputs.data?.["topics.txt"])!;
    expect(cm.inputs.data["topics.txt"]).toContain(`tracking.events ${run.cfg.kafkaTopics.tracking.partitions} ${run.cfg.kafkaTopics.tracking.retentionHours * 3_600_000} delete`);
    expect(envOf(topics.inputs.spec.template.spec.containers[0]).REPLICATION_FACTOR).toBe("3");
  });

  it("Flink: each job's cluster from its row, JobManager HA with RBAC on ConfigMaps only, S3 keys as secrets", () => {
    const c = run.cfg.flink.jobClusters.find((x) => x.job === "rt-dw-dwd-transform")!;
    const tm = byName(run.registered, K8S.deploy, `${c.name}-taskmanager-deploy`).inputs.spec;
    expect(tm.replicas).toBe(c.taskManagers);
    const props: string = envOf(tm.template.spec.containers[0]).FLINK_PROPERTIES;
    expect(props).toContain(`taskmanager.numberOfTaskSlots: ${c.slotsPerTaskManager}`);
    expect(props).toContain(`taskmanager.memory.process.size: ${c.taskManagerMemoryMiB}m`);
    expect(props).toContain("execution.checkpointing.savepoint-dir: s3://rtdw-prod-checkpoints/savepoints");
    expect(props).toContain("metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
    const jm = byName(run.registered, K8S.deploy, `${c.name}-jobmanager-deploy`).inputs.spec;
    expect(jm.replicas).toBe(2);
    expect(envOf(jm.template.spec.containers[0]).FLINK_PROPERTIES).toContain("high-availability.type: kubernetes");
    expect(jm.template.spec.containers[0].args).toEqual(["jobmanager", "$(POD_IP)"]);
    expect(jm.template.spec.automountServiceAccountToken).toBe(true);
    const role = byName(run.registered, "kubernetes:rbac.authorization.k8s.io/v1:Role", `${c.name}-jobmanager-role`).inputs;
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] }]);
    expect(envOf(container(`${c.name}-taskmanager`)).AWS_SECRET_ACCESS_KEY.secretKeyRef).toBeDefined();
    expect(container(`${c.name}-taskmanager`).image).toMatch(/^registry\.example\.com\/rtdw\/flink@sha256:/);
  });

  it("StarRocks: 3 FE and the configured CNs, shared-data config, every CN registered by the bootstrap", () => {
    expect(byName(run.registered, K8S.sts, "starrocks-fe-sts").inputs.spec.replicas).toBe(3);
    const feConf = ofType(run.registered, K8S.cm).map((c) => c.inputs.data?.["fe.conf"]).find(Boolean);
    expect(feConf).toMatch(/run_mode = shared_data[\s\S]*enable_load_volume_from_conf = false/);
    const job = ofType(run.registered, K8S.job).find((j) => j.name.startsWith("starrocks-bootstrap"))!;
    const env = envOf(job.inputs.spec.template.spec.containers[0]);
    expect(env.COMPUTE_NODES.split(" ")).toHaveLength(run.cfg.sizing.starrocksCn.replicas);
    expect(env.S3_SECRET_KEY.secretKeyRef).toBeDefined();
  });

  it("the tracking collector: Nginx proxies /sa to Vector; Vector's Kafka password comes from its secret backend", () => {
    const nginxConf = ofType(run.registered, K8S.cm).map((c) => c.inputs.data?.["nginx.conf"]).find(Boolean);
    expect(nginxConf).toContain("server vector.rtdw.svc.cluster.local:8687");
    const vectorConf = ofType(run.registered, K8S.cm).map((c) => c.inputs.data?.["vector.yaml"]).find(Boolean);
    expect(vectorConf).toContain("password: SECRET[files.kafka_password]");
    expect(vectorConf).toContain("username: rtdw-collector");
    for (const pw of Object.values(run.credentials.kafka.users)) expect(vectorConf).not.toContain(pw);
    expect(run.endpoints.collector.url).toBe("http://nginx.rtdw.svc.cluster.local:8080/sa");
  });
});

describe("a Kubernetes stack that needs neither the random nor the docker plugin (the cluster check's stack)", () => {
  const digest = (r: string) => `registry.example.com/rtdw/${r}@sha256:${"ab".repeat(32)}`;
  const config = {
    namespace: "rtdw-cluster",
    objectStore: "minio",
    credentialSeed: "seed-".repeat(8),
    prebuiltImages: JSON.stringify({ flink: digest("flink"), streampark: digest("streampark"), vector: digest("vector"), postgres: digest("postgres") }),
    deploy: "platform",
  };

  it("derives every generated password from the seed, runs the supplied digests, and leaves the jobs and Grafana's provisioning out", async () => {
    const run = await runStack("test", config, ["credentialSeed"]);
    const types = new Set(run.registered.map((r) => r.type));
    expect([...types].filter((t) => t.startsWith("random:") || t.startsWith("docker:") || t.startsWith("aws:"))).toEqual([]);
    expect([...types].filter((t) => /FlinkSqlJob|PaimonTable|DwsTable|GrafanaProvisioning/.test(t))).toEqual([]);
    const jm = ofType(run.registered, K8S.deploy).find((d) => d.inputs.metadata.name === `${run.cfg.flink.jobClusters[0].name}-jobmanager`)!;
    expect(jm.inputs.spec.template.spec.containers[0].image).toBe(digest("flink"));
    // The same seed gives the same passwords on a fresh state (another run of the program): nothing regenerated.
    const again = await runStack("test", config, ["credentialSeed"]);
    expect(JSON.stringify(again.credentials)).toBe(JSON.stringify(run.credentials));
    expect(JSON.stringify(run.credentials)).not.toContain("seed-seed");
  });

  it("refuses a prebuilt image without a digest and keeps the registry required while any image is built", async () => {
    await expect(runStack("test", { ...config, prebuiltImages: JSON.stringify({ flink: "registry.example.com/rtdw/flink:1.20" }) }, ["credentialSeed"])).rejects.toThrow(/rtdw:prebuiltImages.flink: expected an image pinned by digest/);
    await expect(runStack("test", { ...config, prebuiltImages: JSON.stringify({ flink: digest("flink") }) }, ["credentialSeed"])).rejects.toThrow(/rtdw:imageRegistry: required on kubernetes/);
  });
});
