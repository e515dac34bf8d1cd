import * as pulumi from "@pulumi/pulumi";
import { ImageBuilds, Sizing } from "../config";
import { FlinkScaling, FlinkSizing, JobCluster, jobClusterSizing, MIN_TASK_MANAGER_MIB } from "../config/flinkSizing";
import { BuiltImage } from "../platform/image";
import { KUBERNETES_API, KubernetesRule, Peer, portOf, ServiceSpec, SidecarSpec, Target } from "../platform/service";
import { Connection, ObjectStoreEndpoint } from "../storage/types";
import { flinkImageFingerprint, jarManifest } from "./artifacts";
import { FLINK_PORTS, flinkProperties } from "./properties";
import { jobExporterSpec } from "./jobExporter";

export interface FlinkClusterArgs {
  /** The official Flink image the stack's image (with the pinned jars) is built on. */
  readonly baseImage: string;
  /** Where the built image goes. */
  readonly images: ImageBuilds;
  /** JobManagers (two or more: Kubernetes HA), TaskManagers and the SQL Gateway, sized (with a cluster per job: the profile's CPU and replicas). */
  readonly sizing: { readonly jobManager: Sizing; readonly taskManager: Sizing; readonly sqlGateway: Sizing; readonly jobExporter: Sizing };
  /** What Prometheus presents to the job exporter (basic auth). */
  readonly scrape: { readonly user: string; readonly password: pulumi.Input<string> };
  /** The job table as this stack scales it: slots needed and offered, per TaskManager, TaskManager memory; each job's own cluster where it has one. */
  readonly flink: FlinkSizing & Pick<FlinkScaling, "slotsPerTaskManager"> & { readonly jobClusters: readonly JobCluster[] };
  /** The Kubernetes namespace (HA's ConfigMaps live there). */
  readonly namespace: string;
  /** Names the cluster's HA metadata (`rtdw-<stack>`, a job's cluster `rtdw-<stack>-<job>`): unique per stack in a namespace. */
  readonly clusterId: string;
  /** Where the JobManager, TaskManagers and SQL Gateway run. */
  readonly target: Target;
  /** Checkpoints, savepoints and HA metadata go to its checkpoints bucket. */
  readonly objectStore: Connection<ObjectStoreEndpoint>;
  /**
   * What the jobs' SQL connects to (object store, Kafka, the catalog database, StarRocks, the business
   * MySQL): the TaskManagers run the operators, the JobManager the sources' split enumerators. With a
   * cluster per job, what that job's SQL connects to.
   */
  readonly jobPeers: (job?: string) => readonly Peer[];
  /** What compiling a job touches (the Paimon catalog's database and the object store): the SQL Gateway's peers. */
  readonly catalogPeers: readonly Peer[];
  /** What runs beside the SQL Gateway and reaches it on loopback (the lakehouse upkeep). */
  readonly gatewaySidecars: readonly SidecarSpec[];
}

/** Where one session cluster's REST API is: for the provider (through the deployer's reach) and for the gateway's sessions. */
export interface SessionClusterEndpoint {
  /** http://<JobManager Service>:8081, as the cluster's pods reach it. */
  readonly restUrl: pulumi.Output<string>;
  /** The JobManager Service and REST port: a gateway session's rest.address/rest.port. */
  readonly address: pulumi.Output<string>;
  readonly port: number;
}

/**
 * Flink 1.20 for every SQL job: one SQL Gateway that compiles and submits them, and the session
 * clusters they run on. With a cluster per job (test, prod: the seeds' model), each row of the job
 * table gets its own JobManager (two with Kubernetes HA where the stack has them), sized by its row,
 * and TaskManagers with exactly its slots, each slot with its row's memory; its own exporter, and
 * network peers from what its SQL connects to. One job's OOM or restart storm stays in its cluster,
 * and rescaling a job touches only its cluster. Otherwise (dev) one shared cluster runs every job.
 * One image built from the official one plus the pinned jars (artifacts.ts) serves them all.
 * Object-store credentials reach S3A (Flink's filesystem and Paimon's) as AWS_* environment secrets,
 * never through the config file.
 */
export class FlinkCluster extends pulumi.ComponentResource {
  /** The shared cluster's REST API; with a cluster per job, none (each job's is in `jobClusters`). */
  readonly restUrl?: pulumi.Output<string>;
  readonly sqlGatewayUrl: pulumi.Output<string>;
  readonly image: pulumi.Output<string>;
  readonly slots: number;
  /** Each job's own cluster, by job name (empty with one shared cluster). */
  readonly jobClusters: Readonly<Record<string, SessionClusterEndpoint>>;

  constructor(name: string, args: FlinkClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:flink:FlinkCluster", name, {}, opts);
    const os = args.objectStore;
    const ha = args.target.kind === "kubernetes" && args.sizing.jobManager.replicas > 1;
    const perJob = args.flink.jobClusters;
    this.slots = perJob.length ? perJob.reduce((n, c) => n + c.slots, 0) : args.flink.slots;

    const image = new BuiltImage(
      `${name}-image`,
      { builds: args.images, context: "flink/image", repository: "flink", buildArgs: { BASE: args.baseImage, JARS: jarManifest() }, fingerprint: [args.baseImage, ...flinkImageFingerprint()] },
      { parent: this },
    );
    this.image = image.ref;

    const properties = (c: { jobManagerMemoryMiB: number; taskManagerMemoryMiB: number; slotsPerTaskManager: number; jobManagerHost?: string; clusterId: string }) =>
      pulumi
        .all([os.buckets, os.endpoint, os.pathStyle])
        .apply(([b, endpoint, pathStyle]) =>
          flinkProperties(c, { checkpointsBucket: b.checkpoints, s3Endpoint: endpoint, pathStyle, jobManagerHost: c.jobManagerHost, ha: ha ? { clusterId: c.clusterId, namespace: args.namespace } : undefined }),
        )
        .apply((p) => Object.entries(p).map(([k, v]) => `${k}: ${v}`).join("\n"));
    const common = (props: pulumi.Output<string>) => ({
      image: image.ref,
      env: { FLINK_PROPERTIES: props, ENABLE_BUILT_IN_PLUGINS: "" },
      secretEnv: { AWS_ACCESS_KEY_ID: os.accessKey, AWS_SECRET_ACCESS_KEY: os.secretKey },
      // The image's entrypoint writes FLINK_PROPERTIES into conf/config.yaml, so the root stays writable.
      security: { runAsUser: 9999, runAsGroup: 9999, fsGroup: 9999, runAsNonRoot: true, readOnlyRootFilesystem: false },
    });

    // Kubernetes HA: the JobManagers elect a leader through ConfigMaps; TaskManagers and the gateway's
    // client find the leader by reading and watching them.
    const haLeader: KubernetesRule[] | undefined = ha ? [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] }] : undefined;
    const haFollower: KubernetesRule[] | undefined = ha ? [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }] : undefined;
    const haPeers: Peer[] = ha ? [KUBERNETES_API] : [];

    /** One session cluster: its JobManager(s), TaskManagers and job exporter, named `<prefix>-…`. */
    const sessionCluster = (prefix: string, sizing: { jobManager: Sizing; taskManager: Sizing }, shape: { jobManagerMemoryMiB: number; taskManagerMemoryMiB: number; slotsPerTaskManager: number }, clusterId: string, peers: readonly Peer[]): SessionClusterEndpoint => {
      const jmName = `${prefix}-jobmanager`;
      const tmName = `${prefix}-taskmanager`;
      const props = common(properties({ ...shape, jobManagerHost: jmName, clusterId }));
      const jm: ServiceSpec = {
        ...props,
        name: jmName,
        // With HA each JobManager advertises its pod IP; the standby takes over through the ConfigMap lock.
        args: ha ? ["jobmanager", "$(POD_IP)"] : ["jobmanager"],
        podEnv: ha ? { POD_IP: "podIP" } : undefined,
        kubernetesAccess: haLeader,
        placement: "one-per-node",
        ports: [
          { name: "rest", port: FLINK_PORTS.rest },
          { name: "rpc", port: FLINK_PORTS.rpc },
          { name: "blob", port: FLINK_PORTS.blob },
          { name: "query", port: FLINK_PORTS.queryService },
          { name: "metrics", port: FLINK_PORTS.metrics },
        ],
        connectsTo: [
          { service: tmName, port: "rpc" },
          { service: tmName, port: "query" },
          // Split enumerators (Kafka, MySQL CDC, Paimon) run here; checkpoints and HA metadata go to the object store.
          ...peers,
          ...haPeers,
        ],
        sizing: sizing.jobManager,
        // Flink's reporter cannot require credentials: the port is reachable only from the platform's pods.
        metrics: { port: "metrics" },
        readiness: { http: { path: "/overview", port: FLINK_PORTS.rest } },
        liveness: { tcp: { port: FLINK_PORTS.rpc } },
        startupSeconds: 120,
      };
      const jobManager = args.target.deployService(jm, this);
      const tm: ServiceSpec = {
        ...props,
        name: tmName,
        args: ["taskmanager"],
        kubernetesAccess: haFollower,
        ports: [
          { name: "rpc", port: FLINK_PORTS.taskRpc },
          { name: "data", port: FLINK_PORTS.taskData },
          { name: "query", port: FLINK_PORTS.queryService },
          { name: "metrics", port: FLINK_PORTS.metrics },
        ],
        connectsTo: [
          { service: jmName, port: "rpc" },
          { service: jmName, port: "blob" },
          // Records between tasks on different TaskManagers of this cluster.
          { service: tmName, port: "data" },
          ...peers,
          ...haPeers,
        ],
        sizing: sizing.taskManager,
        metrics: { port: "metrics" },
        readiness: { tcp: { port: FLINK_PORTS.taskRpc } },
        startupSeconds: 120,
      };
      args.target.deployService(tm, this);
      const restUrl = pulumi.interpolate`http://${jobManager.host}:${portOf(jm, "rest")}`;
      args.target.deployService(jobExporterSpec({ image: image.ref, sizing: args.sizing.jobExporter, restUrl, scrapeUser: args.scrape.user, scrapePassword: args.scrape.password, cluster: prefix }), this, jobManager.resources);
      return { restUrl, address: jobManager.host, port: portOf(jm, "rest") };
    };

    const clusters: Record<string, SessionClusterEndpoint> = {};
    if (perJob.length) {
      for (const c of perJob) {
        const sizing = jobClusterSizing(c, { jobManager: args.sizing.jobManager, taskManager: args.sizing.taskManager }, args.flink);
        clusters[c.job] = sessionCluster(c.name, sizing, { jobManagerMemoryMiB: c.jobManagerMemoryMiB, taskManagerMemoryMiB: c.taskManagerMemoryMiB, slotsPerTaskManager: c.slotsPerTaskManager }, `${args.clusterId}-${c.name.replace(/^flink-/, "")}`, args.jobPeers(c.job));
      }
    } else {
      this.restUrl = sessionCluster("flink", { jobManager: args.sizing.jobManager, taskManager: args.sizing.taskManager }, { jobManagerMemoryMiB: args.sizing.jobManager.memoryMiB, taskManagerMemoryMiB: args.flink.taskManagerMemoryMiB, slotsPerTaskManager: args.flink.slotsPerTaskManager }, args.clusterId, args.jobPeers()).restUrl;
    }
    this.jobClusters = clusters;
    const jobManagers = perJob.length ? perJob.map((c) => `${c.name}-jobmanager`) : ["flink-jobmanager"];

    // One gateway for every cluster: a session names its job's cluster (rest.address/rest.port). With a
    // cluster per job it has no cluster of its own, and runs only what needs none (DDL, EXPLAIN, the upkeep's procedures).
    const gw: ServiceSpec = {
      // With a cluster per job nothing of a job's row reaches the gateway's config: one job's change restarts no other pod.
      ...common(properties({ jobManagerMemoryMiB: args.sizing.jobManager.memoryMiB, taskManagerMemoryMiB: perJob.length ? MIN_TASK_MANAGER_MIB : args.flink.taskManagerMemoryMiB, slotsPerTaskManager: args.flink.slotsPerTaskManager, jobManagerHost: jobManagers[0], clusterId: args.clusterId })),
      name: "flink-sql-gateway",
      command: ["/opt/flink/bin/sql-gateway.sh"],
      args: [
        "start-foreground",
        "-Dsql-gateway.endpoint.rest.address=0.0.0.0",
        "-Dsql-gateway.endpoint.rest.bind-address=0.0.0.0",
        `-Dsql-gateway.endpoint.rest.port=${FLINK_PORTS.sqlGateway}`,
        "-Dexecution.target=remote",
      ],
      ports: [{ name: "http", port: FLINK_PORTS.sqlGateway }],
      kubernetesAccess: haFollower,
      connectsTo: [...jobManagers.map((service) => ({ service, port: "rest" })), ...args.catalogPeers, ...haPeers],
      sizing: args.sizing.sqlGateway,
      readiness: { http: { path: "/v3/info", port: FLINK_PORTS.sqlGateway } },
      startupSeconds: 120,
      sidecars: args.gatewaySidecars,
    };
    const gateway = args.target.deployService(gw, this);
    this.sqlGatewayUrl = pulumi.interpolate`http://${gateway.host}:${portOf(gw, "http")}`;
    this.registerOutputs({ restUrl: this.restUrl, sqlGatewayUrl: this.sqlGatewayUrl, image: this.image, jobClusters: Object.fromEntries(Object.entries(clusters).map(([j, c]) => [j, c.restUrl])) });
  }
}
