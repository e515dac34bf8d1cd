import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { PUBLISHED_PORTS } from "../config";
import { ContainerSpec, DeployedService, MetricsRegistry, portOf, Probe, ServiceSpec, Target, TaskSpec, TargetSettings } from "./service";

/**
 * Renders service descriptions as containers on a local Docker engine (the dev stack): one private
 * network, named volumes, health checks, restart policy, ports published on 127.0.0.1 only.
 */
export class DockerTarget implements Target {
  readonly kind = "docker" as const;

  constructor(
    private readonly cfg: TargetSettings,
    private readonly provider: docker.Provider,
    private readonly network: docker.Network,
  ) {}

  private containerName(name: string) {
    return `rtdw-${this.cfg.stack}-${name}`;
  }

  private labels(name: string): docker.types.input.ContainerLabel[] {
    return [
      { label: "app.kubernetes.io/name", value: name },
      { label: "app.kubernetes.io/part-of", value: "rtdw" },
      { label: "app.kubernetes.io/instance", value: this.cfg.stack },
    ];
  }

  private common(spec: ContainerSpec) {
    const plain = Object.entries(spec.env ?? {}).map(([k, v]) => pulumi.interpolate`${k}=${v}`);
    const secret = Object.entries(spec.secretEnv ?? {}).map(([k, v]) => pulumi.secret(pulumi.interpolate`${k}=${v}`));
    const uploads: docker.types.input.ContainerUpload[] = [];
    for (const fs of spec.configFiles ?? []) {
      for (const [f, content] of Object.entries(fs.files)) uploads.push({ file: `${fs.dir}/${f}`, content });
    }
    for (const fs of spec.secretFiles ?? []) {
      for (const [f, content] of Object.entries(fs.files)) {
        uploads.push({ file: `${fs.dir}/${f}`, content: pulumi.secret(content), permissions: "0440" });
      }
    }
    const s = spec.security;
    return {
      image: spec.image,
      // Same split as Kubernetes: command replaces the image ENTRYPOINT, args its CMD.
      entrypoints: spec.command ? [...spec.command] : undefined,
      command: spec.args ? [...spec.args] : undefined,
      envs: pulumi.all([...plain, ...secret]),
      uploads,
      user: s.runAsUser !== undefined ? `${s.runAsUser}${s.runAsGroup !== undefined ? `:${s.runAsGroup}` : ""}` : undefined,
      readOnly: s.readOnlyRootFilesystem,
      tmpfs: Object.fromEntries((s.scratchDirs ?? []).map((d) => [d, "rw,size=256m"])),
      capabilities: { drops: ["ALL"] },
      securityOpts: ["no-new-privileges:true"],
      networksAdvanced: [{ name: this.network.name, aliases: [spec.name] }],
      labels: this.labels(spec.name),
    };
  }

  private readonly metrics = new MetricsRegistry();
  metricsEndpoints() {
    return this.metrics.list;
  }

  deployService(spec: ServiceSpec, parent: pulumi.Resource, dependsOn: pulumi.Resource[] = []): DeployedService {
    this.metrics.add(spec);
    // One container per service: the pod's name and address are the container's network alias.
    const podEnv = Object.fromEntries(Object.entries(spec.podEnv ?? {}).map(([k, f]) => [k, f === "namespace" ? this.cfg.namespace : spec.name]));
    spec = { ...spec, env: { ...spec.env, ...podEnv } };
    const volumes: docker.types.input.ContainerVolume[] = [];
    for (const v of spec.volumes ?? []) {
      const vol = new docker.Volume(
        `${spec.name}-${v.name}-vol`,
        { name: `${this.containerName(spec.name)}-${v.name}` },
        { parent, provider: this.provider, protect: this.cfg.protectStateful, retainOnDelete: this.cfg.protectStateful },
      );
      volumes.push({ volumeName: vol.name, containerPath: v.mountPath });
    }
    const c = this.common(spec);
    const container = new docker.Container(
      `${spec.name}-ctr`,
      {
        ...c,
        name: this.containerName(spec.name),
        hostname: spec.name,
        restart: "unless-stopped",
        destroyGraceSeconds: spec.terminationGraceSeconds,
        memory: Math.round(spec.sizing.memoryMiB),
        memorySwap: Math.round(spec.sizing.memoryMiB),
        cpus: String(spec.sizing.cpuLimit),
        // Docker has no CPU reservation; shares give each container its requested weight under contention.
        cpuShares: Math.round(spec.sizing.cpuRequest * 1024),
        volumes,
        // Only what config/hostPorts.ts lists, each on its own host port: container ports repeat across
        // services (8081, 9093, 6125, 9249), and Docker refuses a second container on a taken host port.
        ports: this.publish(spec),
        healthcheck: {
          tests: healthTest(spec.readiness),
          interval: "10s",
          timeout: "5s",
          retries: 5,
          startPeriod: `${spec.startupSeconds ?? 60}s`,
        },
        wait: true,
        waitTimeout: (spec.startupSeconds ?? 60) + 60,
      },
      { parent, provider: this.provider, dependsOn },
    );
    // Sidecars join the service's network namespace (its loopback) and mount its volumes.
    const sidecars = (spec.sidecars ?? []).map((sc) => {
      const { networksAdvanced: _own, ...common } = this.common({ ...sc, security: { ...spec.security, scratchDirs: sc.scratchDirs } });
      return new docker.Container(
        `${spec.name}-${sc.name}-ctr`,
        {
          ...common,
          name: `${this.containerName(spec.name)}-${sc.name}`,
          networkMode: pulumi.interpolate`container:${container.id}`,
          restart: "unless-stopped",
          memory: Math.round(sc.sizing.memoryMiB),
          memorySwap: Math.round(sc.sizing.memoryMiB),
          cpus: String(sc.sizing.cpuLimit),
          cpuShares: Math.round(sc.sizing.cpuRequest * 1024),
          volumes,
        },
        { parent, provider: this.provider, dependsOn: [container] },
      );
    });
    return {
      host: container.hostname,
      ports: Object.fromEntries(spec.ports.map((p) => [p.name, p.port])),
      resources: [container, ...sidecars],
    };
  }

  /** service:containerPort -> host port, of everything published so far. */
  private readonly published = new Map<string, number>();

  private publish(spec: ServiceSpec): docker.types.input.ContainerPort[] {
    return PUBLISHED_PORTS.filter((p) => p.service === spec.name).map((p) => {
      const internal = portOf(spec, p.port);
      const external = this.cfg.hostPorts[p.key];
      this.published.set(`${spec.name}:${internal}`, external);
      return { internal, external, ip: "127.0.0.1", protocol: "tcp" };
    });
  }

  fromDeployer(url: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.output(url).apply((u) => {
      const parsed = new URL(u);
      const key = `${parsed.hostname}:${parsed.port || (parsed.protocol === "https:" ? 443 : 80)}`;
      const hostPort = this.published.get(key);
      if (hostPort === undefined) throw new Error(`the docker target publishes nothing for ${key} (${u}); add it to PUBLISHED_PORTS (components/config/hostPorts.ts)`);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(hostPort);
      return parsed.toString().replace(/\/$/, u.endsWith("/") ? "/" : "");
    });
  }

  /** The stack's Docker network is its own and published ports bind to 127.0.0.1: no per-flow rules to render. */
  finish(): void {}

  runTask(spec: TaskSpec, parent: pulumi.Resource, dependsOn: pulumi.Resource[]): pulumi.Resource {
    const c = this.common(spec);
    return new docker.Container(
      `${spec.name}-${spec.revision.slice(0, 8)}-task`,
      {
        ...c,
        name: `${this.containerName(spec.name)}-${spec.revision.slice(0, 8)}`,
        restart: "no",
        mustRun: false,
        attach: true,
        logs: true,
        memory: 256,
      },
      { parent, provider: this.provider, dependsOn, deleteBeforeReplace: true },
    );
  }
}

function healthTest(p: Probe): string[] {
  if ("exec" in p) return ["CMD", ...p.exec];
  if ("http" in p) {
    const url = `http://127.0.0.1:${p.http.port}${p.http.path}`;
    return ["CMD-SHELL", `wget -q -O /dev/null ${url} || curl -fsS -o /dev/null ${url}`];
  }
  return ["CMD-SHELL", `(echo > /dev/tcp/127.0.0.1/${p.tcp.port}) 2>/dev/null || nc -z 127.0.0.1 ${p.tcp.port}`];
}
