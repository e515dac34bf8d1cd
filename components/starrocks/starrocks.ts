import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { suppliedSecret, Workload } from "../config";
import { Peer, revisionOf, ServiceSpec, Target, TaskSpec } from "../platform/service";
import { password } from "../config/secrets";
import { Connection, ObjectStoreEndpoint, paimonWarehouse } from "../storage/types";

export interface StarRocksArgs {
  /** The frontends' image and sizing (three or more: a metadata quorum). */
  readonly frontend: Workload;
  /** The compute nodes' image and sizing. */
  readonly computeNode: Workload;
  /** Volume sizes: the FE metadata and each CN's local cache (rtdw:volumes.starrocksFe/starrocksCn). */
  readonly volumesGiB: { readonly frontend: number; readonly computeNode: number };
  /** The Kubernetes namespace: the bootstrap registers compute nodes by their pods' DNS names. */
  readonly namespace: string;
  /** How often the asynchronous materialized views over DWS refresh, in minutes (rtdw:lakehouse). */
  readonly materializedViewRefreshMinutes: number;
  /** Changes when the root password is supplied or rotated: the bootstrap runs again to set it. */
  readonly rootRevision: string;
  /** Where FE, CN and the bootstrap task run. */
  readonly target: Target;
  /** Shared data lives in its starrocks bucket; the Paimon catalog reads its warehouse bucket. */
  readonly objectStore: Connection<ObjectStoreEndpoint>;
  /** How FE and CN pods reach the object store. */
  readonly objectStorePeer: Peer;
}

export const STARROCKS_BOOTSTRAP = fs.readFileSync(path.join(__dirname, "bootstrap.sh"), "utf8");
const SQL_DIR = path.resolve(__dirname, "../../sql/starrocks");
/** sql/starrocks/*.sql in order: storage volume, Paimon catalog, the DWS schema, users. */
export const STARROCKS_SQL: Readonly<Record<string, string>> = Object.fromEntries(
  fs.readdirSync(SQL_DIR).filter((f) => f.endsWith(".sql")).sort().map((f) => [f, fs.readFileSync(path.join(SQL_DIR, f), "utf8")]),
);

/** The users of sql/starrocks/90_users.sql. */
export const DWS_WRITER_USER = "rtdw_dws_writer";
export const DWS_READER_USER = "rtdw_grafana";

export const STARROCKS_PORTS = { feHttp: 8030, feRpc: 9020, feQuery: 9030, feEditLog: 9010, feMeta: 6090, cnThrift: 9060, cnHttp: 8040, cnHeartbeat: 9050, cnBrpc: 8060, cnStarlet: 9070 } as const;

/**
 * StarRocks 3.3 in shared-data mode: FE (1 in dev, 3 in prod) and CN nodes with a local cache,
 * data on the object store through a storage volume (path-style for MinIO), root password set from
 * a generated secret, compute nodes registered, DWS tables created, and a Paimon catalog over the
 * warehouse. Everything after the first start is done by an idempotent task.
 */
export class StarRocks extends pulumi.ComponentResource {
  /** MySQL-protocol address of the FE (query port). */
  readonly feHost: pulumi.Output<string>;
  readonly jdbcUrl: pulumi.Output<string>;
  /** Stream Load address(es) for the Flink connector. */
  readonly loadUrl: pulumi.Output<string>;
  readonly rootPassword: pulumi.Output<string>;
  /** The DWS sinks' user: loads into the dws database only (sql/starrocks/90_users.sql). */
  readonly dwsWriter: { readonly user: string; readonly password: pulumi.Output<string> };
  /** Grafana's user: reads the dws database only. */
  readonly dwsReader: { readonly user: string; readonly password: pulumi.Output<string> };
  private readonly bootstrap: pulumi.Resource;
  private readonly lakeCheck: Omit<TaskSpec, "name" | "revision" | "command">;

  constructor(name: string, args: StarRocksArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:olap:StarRocks", name, {}, opts);
    const k8s = args.target.kind === "kubernetes";
    this.rootPassword = password(`${name}-root-password`, this, "starrocksRootPassword");
    this.dwsWriter = { user: DWS_WRITER_USER, password: password(`${name}-dws-writer-password`, this) };
    this.dwsReader = { user: DWS_READER_USER, password: password(`${name}-dws-reader-password`, this) };
    const pod = (svc: string, i: number) => (k8s ? `${svc}-${i}.${svc}.${args.namespace}.svc.cluster.local` : svc);
    const feHeapMiB = Math.floor(args.frontend.sizing.memoryMiB * 0.6);
    // The images start as root but own /opt/starrocks by their "starrocks" user (1000), which is what
    // the StarRocks operator runs them as with runAsNonRoot.
    const unprivileged = { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true, readOnlyRootFilesystem: false } as const;

    const feConf = `# Shared-data FE. The storage volume is created by the bootstrap task, not from this file.
run_mode = shared_data
cloud_native_meta_port = ${STARROCKS_PORTS.feMeta}
cloud_native_storage_type = S3
enable_load_volume_from_conf = false
http_port = ${STARROCKS_PORTS.feHttp}
rpc_port = ${STARROCKS_PORTS.feRpc}
query_port = ${STARROCKS_PORTS.feQuery}
edit_log_port = ${STARROCKS_PORTS.feEditLog}
sys_log_level = INFO
JAVA_OPTS = "-Xms${feHeapMiB}m -Xmx${feHeapMiB}m -XX:+UseG1GC -Djava.security.policy=/opt/starrocks/fe/conf/udf_security.policy"
`;
    const fe: ServiceSpec = {
      name: "starrocks-fe",
      image: args.frontend.image,
      command: ["bash", "-c", "cp /etc/rtdw-starrocks/fe.conf /opt/starrocks/fe/conf/fe.conf && exec /opt/starrocks/fe_entrypoint.sh starrocks-fe"],
      env: { HOST_TYPE: "FQDN", FE_SERVICE_NAME: "starrocks-fe" },
      configFiles: [{ dir: "/etc/rtdw-starrocks", files: { "fe.conf": feConf } }],
      ports: [
        { name: "http", port: STARROCKS_PORTS.feHttp },
        { name: "rpc", port: STARROCKS_PORTS.feRpc },
        { name: "query", port: STARROCKS_PORTS.feQuery },
        { name: "editlog", port: STARROCKS_PORTS.feEditLog },
        // The shared-data metadata service (starmgr) the compute nodes talk to.
        { name: "starmgr", port: STARROCKS_PORTS.feMeta },
      ],
      // FEs elect a leader by majority: one per node.
      placement: "one-per-node",
      connectsTo: [
        { service: "starrocks-fe", port: "editlog" },
        { service: "starrocks-fe", port: "http" },
        { service: "starrocks-fe", port: "rpc" },
        { service: "starrocks-cn", port: "heartbeat" },
        { service: "starrocks-cn", port: "thrift" },
        { service: "starrocks-cn", port: "brpc" },
        { service: "starrocks-cn", port: "starlet" },
        args.objectStorePeer,
      ],
      volumes: [{ name: "meta", mountPath: "/opt/starrocks/fe/meta", sizeGiB: args.volumesGiB.frontend, configKey: "volumes.starrocksFe" }],
      // StarRocks serves /metrics without authentication; the port is reachable only from the platform's pods.
      metrics: { port: "http" },
      stableNetworkIds: true,
      sizing: args.frontend.sizing,
      readiness: { http: { path: "/api/health", port: STARROCKS_PORTS.feHttp } },
      startupSeconds: 300,
      terminationGraceSeconds: 120,
      security: unprivileged,
    };
    const feSvc = args.target.deployService(fe, this);
    this.feHost = feSvc.host;
    this.jdbcUrl = pulumi.interpolate`jdbc:mysql://${feSvc.host}:${STARROCKS_PORTS.feQuery}`;
    this.loadUrl = pulumi.interpolate`${feSvc.host}:${STARROCKS_PORTS.feHttp}`;

    const cnConf = `# Compute node: data on the object store, a local cache on its volume.
be_port = ${STARROCKS_PORTS.cnThrift}
be_http_port = ${STARROCKS_PORTS.cnHttp}
heartbeat_service_port = ${STARROCKS_PORTS.cnHeartbeat}
brpc_port = ${STARROCKS_PORTS.cnBrpc}
starlet_port = ${STARROCKS_PORTS.cnStarlet}
storage_root_path = /opt/starrocks/cn/storage
mem_limit = 80%
`;
    const cn: ServiceSpec = {
      name: "starrocks-cn",
      image: args.computeNode.image,
      // The image's entrypoint registers the node with the FE (mysql reads MYSQL_PWD) and drops it on stop.
      command: ["bash", "-c", "cp /etc/rtdw-starrocks/cn.conf /opt/starrocks/cn/conf/cn.conf && exec /opt/starrocks/cn_entrypoint.sh starrocks-fe"],
      env: { HOST_TYPE: "FQDN", FE_QUERY_PORT: String(STARROCKS_PORTS.feQuery) },
      secretEnv: { MYSQL_PWD: this.rootPassword },
      configFiles: [{ dir: "/etc/rtdw-starrocks", files: { "cn.conf": cnConf } }],
      ports: [
        { name: "thrift", port: STARROCKS_PORTS.cnThrift },
        { name: "http", port: STARROCKS_PORTS.cnHttp },
        { name: "heartbeat", port: STARROCKS_PORTS.cnHeartbeat },
        { name: "brpc", port: STARROCKS_PORTS.cnBrpc },
        { name: "starlet", port: STARROCKS_PORTS.cnStarlet },
      ],
      volumes: [{ name: "cache", mountPath: "/opt/starrocks/cn/storage", sizeGiB: args.volumesGiB.computeNode, configKey: "volumes.starrocksCn" }],
      metrics: { port: "http" },
      stableNetworkIds: true,
      sizing: args.computeNode.sizing,
      readiness: { http: { path: "/api/health", port: STARROCKS_PORTS.cnHttp } },
      startupSeconds: 300,
      terminationGraceSeconds: 60,
      security: unprivileged,
      connectsTo: [
        // Registration (the entrypoint's ADD COMPUTE NODE), reports and the shared-data metadata service.
        { service: "starrocks-fe", port: "query" },
        { service: "starrocks-fe", port: "rpc" },
        { service: "starrocks-fe", port: "http" },
        { service: "starrocks-fe", port: "starmgr" },
        // Exchange between compute nodes during a query.
        { service: "starrocks-cn", port: "brpc" },
        args.objectStorePeer,
      ],
    };
    const cnSvc = args.target.deployService(cn, this);

    const os = args.objectStore;
    const s3 = os.endpoint.apply((e) => new URL(e));
    const previousRoot = suppliedSecret("starrocksRootPasswordPrevious");
    const sqlFiles = Object.fromEntries(Object.entries(STARROCKS_SQL).map(([f, t]) => [f, t]));
    this.bootstrap = args.target.runTask(
      {
        name: "starrocks-bootstrap",
        revision: revisionOf(STARROCKS_BOOTSTRAP, STARROCKS_SQL, args.computeNode.sizing.replicas, args.rootRevision, args.materializedViewRefreshMinutes),
        image: args.frontend.image,
        command: ["bash", "/task/bootstrap.sh"],
        env: {
          FE_HOST: feSvc.host,
          COMPUTE_NODES: Array.from({ length: args.computeNode.sizing.replicas }, (_, i) => pod("starrocks-cn", i)).join(" "),
          STARROCKS_BUCKET: os.buckets.apply((b) => b.starrocks),
          MV_REFRESH_MINUTES: String(args.materializedViewRefreshMinutes),
          PAIMON_WAREHOUSE: os.buckets.apply((b) => paimonWarehouse(b.warehouse)),
          S3_REGION: os.region,
          S3_ENDPOINT: s3.apply((u) => u.host),
          S3_SSL: s3.apply((u) => String(u.protocol === "https:")),
          S3_PATH_STYLE: os.pathStyle.apply(String),
          S3_ACCESS_KEY: os.accessKey,
        },
        secretEnv: {
          STARROCKS_ROOT_PASSWORD: this.rootPassword,
          ...(previousRoot ? { STARROCKS_ROOT_PASSWORD_PREVIOUS: previousRoot } : {}),
          S3_SECRET_KEY: os.secretKey, DWS_WRITER_PASSWORD: this.dwsWriter.password, GRAFANA_READER_PASSWORD: this.dwsReader.password,
        },
        configFiles: [
          { dir: "/task", files: { "bootstrap.sh": STARROCKS_BOOTSTRAP } },
          { dir: "/task/sql", files: sqlFiles },
        ],
        security: { ...unprivileged, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
        connectsTo: [{ service: "starrocks-fe", port: "query" }],
      },
      this,
      [...feSvc.resources, ...cnSvc.resources],
    );
    this.lakeCheck = {
      image: args.frontend.image,
      env: { FE_HOST: feSvc.host, PAIMON_WAREHOUSE: os.buckets.apply((b) => paimonWarehouse(b.warehouse)) },
      secretEnv: { STARROCKS_ROOT_PASSWORD: this.rootPassword },
      configFiles: [{ dir: "/task", files: { "bootstrap.sh": STARROCKS_BOOTSTRAP } }],
      security: { ...unprivileged, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
      connectsTo: [{ service: "starrocks-fe", port: "query" }],
    };
    this.registerOutputs({ jdbcUrl: this.jdbcUrl, loadUrl: this.loadUrl });
  }

  /**
   * After the jobs created the lake: a task that fails unless StarRocks' Paimon catalog lists every
   * one of these tables (db.table). A catalog on another path than the jobs' warehouse lists none.
   * Its parent is not this component: what depends on StarRocks (the jobs) would wait for it, and it for them.
   */
  checkLakeCatalog(target: Target, lakeTables: readonly string[], after: pulumi.Resource[], parent: pulumi.Resource): pulumi.Resource {
    return target.runTask(
      { ...this.lakeCheck, name: "starrocks-lake-check", revision: revisionOf(STARROCKS_BOOTSTRAP, STARROCKS_SQL, lakeTables), command: ["bash", "/task/bootstrap.sh", "lake-check"], env: { ...this.lakeCheck.env, LAKE_TABLES: lakeTables.join(" ") } },
      parent,
      [this.bootstrap, ...after],
    );
  }
}
