import * as pulumi from "@pulumi/pulumi";
import { ImageBuilds, Sizing } from "../config";
import { FlinkSizing } from "../config/flinkSizing";
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
  /** JobManagers (two or more: Kubernetes HA), TaskManagers and the SQL Gateway, sized. */
  readonly sizing: { readonly jobManager: Sizing; readonly taskManager: Sizing; readonly sqlGateway: Sizing; readonly jobExporter: Sizing };
  /** What Prometheus presents to the job exporter (basic auth). */
  readonly scrape: { readonly user: string; readonly password: pulumi.Input<string> };
  /** The job table as this stack scales it: slots needed and offered, per TaskManager, TaskManager memory. */
  readonly flink: FlinkSizing;
  /** The Kubernetes namespace (HA's ConfigMaps live there). */
  readonly namespace: string;
  /** Names the cluster's HA metadata (`rtdw-<stack>`): unique per stack in a namespace. */
  readonly clusterId: string;
  /** Where the JobManager, TaskManagers and SQL Gateway run. */
  readonly target: Target;
  /** Checkpoints, savepoints and HA metadata go to its checkpoints bucket. */
  readonly objectStore: Connection<ObjectStoreEndpoint>;
  /**
   * What the jobs' SQL connects to (object store, Kafka, the catalog database, StarRocks, the business
   * MySQL): the TaskManagers run the operators, the JobManager the sources' split enumerators.
   */
  readonly jobPeers: readonly Peer[];
  /** What compiling a job touches (the Paimon catalog's database and the object store): the SQL Gateway's peers. */
  readonly catalogPeers: readonly Peer[];
  /** What runs beside the SQL Gateway and reaches it on loopback (the lakehouse upkeep). */
  readonly gatewaySidecars: readonly SidecarSpec[];
}

/**
 * The Flink 1.20 session cluster every SQL job runs on: JobManager (two with Kubernetes HA in
 * test/prod), TaskManagers sized from the job table, and the SQL Gateway that registers jobs. One
 * image built from the official one plus the pinned jars (artifacts.ts) serves all three.
 * Object-store credentials reach S3A (Flink's filesystem and Paimon's) as AWS_* environment secrets,
 * never through the config file.
 */
export class FlinkCluster extends pulumi.ComponentResource {
  readonly restUrl: pulumi.Output<string>;
  readonly sqlGatewayUrl: pulumi.Output<string>;
  readonly image: pulumi.Output<string>;
  readonly slots: number;

  constructor(name: string, args: FlinkClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:flink:FlinkCluster", name, {}, opts);
    const os = args.objectStore;
    const ha = args.target.kind === "kubernetes" && args.sizing.jobManager.replicas > 1;
    this.slots = args.flink.slots;

    const image = new BuiltImage(
      `${name}-image`,
      { builds: args.images, context: "flink/image", repository: "flink", buildArgs: { BASE: args.baseImage, JARS: jarManifest() }, fingerprint: [args.baseImage, ...flinkImageFingerprint()] },
      { parent: this },
    );
    this.image = image.ref;

    const properties = pulumi
      .all([os.buckets, os.endpoint, os.pathStyle])
      .apply(([b, endpoint, pathStyle]) => flinkProperties({ jobManagerMemoryMiB: args.sizing.jobManager.memoryMiB, taskManagerMemoryMiB: args.flink.taskManagerMemoryMiB, slotsPerTaskManager: args.flink.slotsPerTaskManager }, { checkpointsBucket: b.checkpoints, s3Endpoint: endpoint, pathStyle, ha: ha ? { clusterId: args.clusterId, namespace: args.namespace } : undefined }))
      .apply((p) => Object.entries(p).map(([k, v]) => `${k}: ${v}`).join("\n"));
    const common = {
      image: image.ref,
      env: { FLINK_PROPERTIES: properties, ENABLE_BUILT_IN_PLUGINS: "" },
      secretEnv: { AWS_ACCESS_KEY_ID: os.accessKey, AWS_SECRET_ACCESS_KEY: os.secretKey },
      // The image's entrypoint writes FLINK_PROPERTIES into conf/config.yaml, so the root stays writable.
      security: { runAsUser: 9999, runAsGroup: 9999, fsGroup: 9999, runAsNonRoot: true, readOnlyRootFilesystem: false },
    };

    // Kubernetes HA: the JobManagers elect a leader through ConfigMaps; TaskManagers and the gateway's
    // client find the leader by reading and watching them.
    const haLeader: KubernetesRule[] | undefined = ha ? [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] }] : undefined;
    const haFollower: KubernetesRule[] | undefined = ha ? [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }] : undefined;
    const haPeers: Peer[] = ha ? [KUBERNETES_API] : [];

    const jm: ServiceSpec = {
      ...common,
      name: "flink-jobmanager",
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
        { service: "flink-taskmanager", port: "rpc" },
        { service: "flink-taskmanager", port: "query" },
        // Split enumerators (Kafka, MySQL CDC, Paimon) run here; checkpoints and HA metadata go to the object store.
        ...args.jobPeers,
        ...haPeers,
      ],
      sizing: args.sizing.jobManager,
      // Flink's reporter cannot require credentials: the port is reachable only from the platform's pods.
      metrics: { port: "metrics" },
      readiness: { http: { path: "/overview", port: FLINK_PORTS.rest } },
      liveness: { tcp: { port: FLINK_PORTS.rpc } },
      startupSeconds: 120,
    };
    const jobManager = args.target.deployService(jm, this);

    const tm: ServiceSpec = {
      ...common,
      name: "flink-taskmanager",
      args: ["taskmanager"],
      kubernetesAccess: haFollower,
      ports: [
        { name: "rpc", port: FLINK_PORTS.taskRpc },
        { name: "data", port: FLINK_PORTS.taskData },
        { name: "query", port: FLINK_PORTS.queryService },
        { name: "metrics", port: FLINK_PORTS.metrics },
      ],
      connectsTo: [
        { service: "flink-jobmanager", port: "rpc" },
        { service: "flink-jobmanager", port: "blob" },
        // Records between tasks on different TaskManagers.
        { service: "flink-taskmanager", port: "data" },
        ...args.jobPeers,
        ...haPeers,
      ],
      sizing: args.sizing.taskManager,
      metrics: { port: "metrics" },
      readiness: { tcp: { port: FLINK_PORTS.taskRpc } },
      startupSeconds: 120,
    };
    args.target.deployService(tm, this);

    const gw: ServiceSpec = {
      ...common,
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
      connectsTo: [{ service: "flink-jobmanager", port: "rest" }, ...args.catalogPeers, ...haPeers],
      sizing: args.sizing.sqlGateway,
      readiness: { http: { path: "/v3/info", port: FLINK_PORTS.sqlGateway } },
      startupSeconds: 120,
      sidecars: args.gatewaySidecars,
    };
    const gateway = args.target.deployService(gw, this);

    this.restUrl = pulumi.interpolate`http://${jobManager.host}:${portOf(jm, "rest")}`;
    args.target.deployService(jobExporterSpec({ image: image.ref, sizing: args.sizing.jobExporter, restUrl: this.restUrl, scrapeUser: args.scrape.user, scrapePassword: args.scrape.password }), this, jobManager.resources);
    this.sqlGatewayUrl = pulumi.interpolate`http://${gateway.host}:${portOf(gw, "http")}`;
    this.registerOutputs({ restUrl: this.restUrl, sqlGatewayUrl: this.sqlGatewayUrl, image: this.image });
  }
}
