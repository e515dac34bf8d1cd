import * as pulumi from "@pulumi/pulumi";
import { Workload } from "../config";
import { portOf, ServiceSpec, Target } from "../platform/service";
import { password } from "../config/secrets";
import { redisExporter } from "../observability/exporters";

export interface RedisArgs {
  /** The server's image and sizing. */
  readonly server: Workload;
  /** Its exporter's image and sizing. */
  readonly exporter: Workload;
  /** Size of the AOF volume (rtdw:volumes.redis). */
  readonly volumeGiB: number;
  /** Where the server runs. */
  readonly target: Target;
}

/** redis.conf: password required, AOF every second, no eviction (the whitelist must never lose an entry). The sandbox renders it too. */
export function renderRedisConf(o: { bind: string; port: number; password: string; dir: string; maxmemoryMiB: number }): string {
  return `bind ${o.bind}
port ${o.port}
protected-mode yes
requirepass ${o.password}
dir ${o.dir}
appendonly yes
appendfsync everysec
save 900 1
maxmemory ${o.maxmemoryMiB}mb
maxmemory-policy noeviction
`;
}

/** Redis 7 holding the CORE-event whitelist: password required, AOF persistence. */
export class Redis extends pulumi.ComponentResource {
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly password: pulumi.Output<string>;

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:data:Redis", name, {}, opts);
    this.password = password(`${name}-password`, this, "redisPassword");
    const maxmemoryMiB = Math.max(16, Math.floor(args.server.sizing.memoryMiB * 0.75));
    // The password is part of the config file, so the whole file is a Secret.
    const conf = this.password.apply((pw) => renderRedisConf({ bind: "0.0.0.0", port: 6379, password: pw, dir: "/data", maxmemoryMiB }));
    const spec: ServiceSpec = {
      name: "redis",
      image: args.server.image,
      command: ["redis-server", "/etc/redis/redis.conf"],
      ports: [{ name: "redis", port: 6379 }],
      // redis-cli reads REDISCLI_AUTH, so the probe authenticates without the password on a command line.
      secretEnv: { REDISCLI_AUTH: this.password },
      secretFiles: [{ dir: "/etc/redis", files: { "redis.conf": conf } }],
      volumes: [{ name: "data", mountPath: "/data", sizeGiB: args.volumeGiB, configKey: "volumes.redis" }],
      sizing: args.server.sizing,
      readiness: { exec: ["sh", "-c", "redis-cli ping | grep -q PONG"] },
      liveness: { tcp: { port: 6379 } },
      security: { runAsUser: 999, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
    };
    const server = args.target.deployService(spec, this);
    this.host = server.host;
    this.port = pulumi.output(portOf(spec, "redis"));
    args.target.deployService(redisExporter(args.exporter, { host: server.host, password: this.password, scrapePassword: password(`${name}-exporter-scrape-password`, this) }), this, server.resources);
    this.registerOutputs({ host: this.host, port: this.port });
  }
}
