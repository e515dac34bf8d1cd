import * as pulumi from "@pulumi/pulumi";
import { ImageBuilds, Workload } from "../config";
import { CollectorLimits } from "../config/collectorLimits";
import { BuiltImage } from "../platform/image";
import { Peer, portOf, ServiceSpec, Target } from "../platform/service";
import { renderNginxConf } from "./nginx";
import { ARCHIVE_BATCH_SECONDS, diskBuffers, NGINX_SYSLOG_PORT, renderVectorConfig, VECTOR_SECRETS } from "./vector";
import { nginxExporter, SCRAPE_USER } from "../observability/exporters";
import { password } from "../config/secrets";
import { describeGeoip, GEOIP_IMAGE_PATH, GeoipSetting } from "../config/geoip";

export interface CollectorArgs {
  /** Nginx's image and sizing (a worker per CPU of its limit). */
  readonly nginx: Workload;
  /** Vector's base image (the stack adds redis-cli) and sizing. */
  readonly vector: Workload;
  /** The Nginx exporter's image and sizing. */
  readonly exporter: Workload;
  /** Size of Vector's disk-buffer volume (rtdw:volumes.vector). */
  readonly bufferVolumeGiB: number;
  /** Body, batch, rate and connection limits (rtdw:collector). */
  readonly limits: CollectorLimits;
  /** Where the built Vector image goes. */
  readonly images: ImageBuilds;
  /** Where Nginx and Vector run. */
  readonly target: Target;
  /** The client listener, the collector's own SCRAM user, and the CA to trust where Kafka speaks TLS. */
  readonly kafka: { readonly bootstrapServers: pulumi.Input<string>; readonly user: string; readonly password: pulumi.Input<string>; readonly caCertificate?: pulumi.Input<string> };
  readonly redis: { readonly host: pulumi.Input<string>; readonly port: pulumi.Input<number>; readonly password: pulumi.Input<string> };
  /** Client networks of the load balancer in front of Nginx (their X-Forwarded-For is trusted). */
  readonly trustedProxies?: readonly string[];
  /** The City database Vector's geoip table reads (rtdw:collector.geoip), baked into its image; or off. */
  readonly geoip: GeoipSetting;
  /** The raw archive's bucket and its writer identity (put under raw/ only); endpoint: MinIO's, path-style. */
  readonly archive: {
    readonly bucket: pulumi.Input<string>;
    readonly region: pulumi.Input<string>;
    readonly endpoint?: pulumi.Input<string>;
    readonly accessKey: pulumi.Input<string>;
    readonly secretKey: pulumi.Input<string>;
    /** How Vector reaches object storage (a NetworkPolicy peer). */
    readonly peer: Peer;
  };
}

/** The tracking collector: Nginx at /sa in front, Vector behind it (see nginx.ts and vector.ts). */
export class Collector extends pulumi.ComponentResource {
  /** Where SDKs send events: http://<host>:8080/sa */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: CollectorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:tracking:Collector", name, {}, opts);
    const geoip = args.geoip.kind === "on" ? args.geoip : undefined;
    // Said in every preview: an event without a place is not an error anyone would otherwise see.
    if (geoip) pulumi.log.info(describeGeoip(args.geoip), this);
    else pulumi.log.warn(describeGeoip(args.geoip), this);
    const image = new BuiltImage(
      `${name}-vector-image`,
      {
        builds: args.images,
        context: "collector/vector-image",
        repository: "vector",
        buildArgs: { BASE: args.vector.image },
        // A new database is a new image (a rolling restart reads it); the digest, not the path, decides.
        fingerprint: [args.vector.image, geoip?.database?.sha256 ?? null],
        contextFiles: geoip ? { [`geoip/${GEOIP_IMAGE_PATH.split("/").pop()}`]: geoip.path } : {},
      },
      { parent: this },
    );
    const vectorScrapePassword = password(`${name}-vector-scrape-password`, this);
    const buffers = diskBuffers(args.bufferVolumeGiB, true);
    const vectorConf = pulumi
      .all([args.kafka.bootstrapServers, args.redis.host, args.redis.port, args.archive.bucket, args.archive.region, args.archive.endpoint])
      .apply(([kafkaBootstrap, redisHost, redisPort, archiveBucket, archiveRegion, archiveEndpoint]) =>
        renderVectorConfig({
          kafkaBootstrap,
          kafkaUser: args.kafka.user,
          kafkaCaFile: args.kafka.caCertificate === undefined ? undefined : "/etc/vector/kafka-ca.crt",
          eventsTopic: "tracking.events",
          deadLetterTopic: "tracking.dead-letter",
          replayTopic: "tracking.replay",
          redisHost,
          redisPort,
          dataDir: "/var/lib/vector",
          bufferBytes: buffers.kafka,
          archive: { bucket: archiveBucket, region: archiveRegion, endpoint: archiveEndpoint, bufferBytes: buffers.archive, batchSeconds: ARCHIVE_BATCH_SECONDS },
          secretsDir: "/etc/vector/secrets",
          metricsUser: SCRAPE_USER,
          limits: args.limits,
          ...(geoip ? { geoipDatabase: GEOIP_IMAGE_PATH, geoipLocale: geoip.locale } : {}),
        }),
      );
    const vector: ServiceSpec = {
      name: "vector",
      image: image.ref,
      args: ["--config", "/etc/vector/vector.yaml"],
      ports: [
        { name: "http", port: 8687 },
        { name: "api", port: 8686 },
        { name: "metrics", port: 9598 },
        { name: "syslog", port: NGINX_SYSLOG_PORT, protocol: "UDP" },
      ],
      // redis-cli (the whitelist's exec source) reads REDISCLI_AUTH; Vector's own credentials are files.
      secretEnv: { REDISCLI_AUTH: args.redis.password },
      secretFiles: [
        {
          dir: "/etc/vector/secrets",
          files: {
            [VECTOR_SECRETS.kafkaPassword]: args.kafka.password,
            [VECTOR_SECRETS.metricsPassword]: vectorScrapePassword,
            [VECTOR_SECRETS.archiveAccessKey]: args.archive.accessKey,
            [VECTOR_SECRETS.archiveSecretKey]: args.archive.secretKey,
          },
        },
      ],
      volumes: [{ name: "data", mountPath: "/var/lib/vector", sizeGiB: args.bufferVolumeGiB, configKey: "volumes.vector" }],
      configFiles: [{ dir: "/etc/vector", files: { "vector.yaml": vectorConf, ...(args.kafka.caCertificate === undefined ? {} : { "kafka-ca.crt": args.kafka.caCertificate }) } }],
      sizing: args.vector.sizing,
      metrics: { port: "metrics", auth: { basic: { username: SCRAPE_USER, password: vectorScrapePassword } } },
      readiness: { http: { path: "/health", port: 8686 } },
      // The image defaults to root; Vector needs no privilege (its port is above 1024, its data a volume it owns by fsGroup).
      security: { runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, runAsNonRoot: true, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
      connectsTo: [
        { service: "kafka", port: "kafka" },
        { service: "redis", port: "redis" },
        args.archive.peer,
      ],
    };
    const vectorSvc = args.target.deployService(vector, this);

    const nginxConf = vectorSvc.host.apply((h) =>
      renderNginxConf({
        listen: "8080",
        statusListen: "8081",
        upstream: `${h}:8687`,
        syslog: `${h}:${NGINX_SYSLOG_PORT}`,
        accessLog: "/dev/stdout",
        errorLog: "/dev/stderr",
        pidFile: "/tmp/nginx.pid",
        tempDir: "/tmp",
        trustedProxies: args.trustedProxies ?? ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
        limits: args.limits,
        workers: args.nginx.sizing.cpuLimit,
      }),
    );
    const nginx: ServiceSpec = {
      name: "nginx",
      image: args.nginx.image,
      command: ["nginx", "-g", "daemon off;", "-c", "/etc/rtdw-nginx/nginx.conf"],
      ports: [
        { name: "http", port: 8080 },
        { name: "status", port: 8081 },
      ],
      publicPorts: ["http"],
      configFiles: [{ dir: "/etc/rtdw-nginx", files: { "nginx.conf": nginxConf } }],
      sizing: args.nginx.sizing,
      readiness: { http: { path: "/healthz", port: 8080 } },
      security: { runAsUser: 101, runAsGroup: 101, runAsNonRoot: true, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
      connectsTo: [
        { service: "vector", port: "http" },
        { service: "vector", port: "syslog" },
      ],
    };
    const nginxSvc = args.target.deployService(nginx, this, vectorSvc.resources);
    this.url = pulumi.interpolate`http://${nginxSvc.host}:${portOf(nginx, "http")}/sa`;
    args.target.deployService(
      nginxExporter(args.exporter, { statusUrl: pulumi.interpolate`http://${nginxSvc.host}:${portOf(nginx, "status")}/stub_status`, scrapePassword: password(`${name}-nginx-exporter-scrape-password`, this) }),
      this,
      nginxSvc.resources,
    );
    this.registerOutputs({ url: this.url });
  }
}
