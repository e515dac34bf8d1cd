import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { formatCpu, formatMemory } from "../config";
import { NetworkWorkload, renderNetworkPolicies } from "./networkPolicies";
import { ClaimSize, VolumeClaimsGuard } from "./volumeClaims";
import { ContainerSpec, DeployedService, FileSet, KubernetesRule, MetricsRegistry, Probe, ServiceSpec, Target, TaskSpec, TargetSettings } from "./service";

type Input<T> = pulumi.Input<T>;

/** Renders service descriptions as Kubernetes objects in one namespace. */
export class KubernetesTarget implements Target {
  readonly kind = "kubernetes" as const;
  readonly namespace: pulumi.Output<string>;

  /** Every service and task deployed so far with the flows it declared: the NetworkPolicies' source. */
  private readonly workloads: NetworkWorkload[] = [];

  constructor(
    private readonly cfg: TargetSettings,
    private readonly provider: k8s.Provider,
    namespace: k8s.core.v1.Namespace,
    /** Parent of what no single service owns (the NetworkPolicies). */
    private readonly parent: pulumi.Resource,
  ) {
    this.namespace = namespace.metadata.name;
  }

  private labels(name: string): Record<string, string> {
    return {
      "app.kubernetes.io/name": name,
      "app.kubernetes.io/part-of": "rtdw",
      "app.kubernetes.io/instance": this.cfg.stack,
      "app.kubernetes.io/managed-by": "pulumi",
    };
  }

  private selector(name: string): Record<string, string> {
    return { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": this.cfg.stack };
  }

  private opts(parent: pulumi.Resource, extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
    return { parent, provider: this.provider, ...extra };
  }

  /** ConfigMaps, the Secret and the pod volumes/mounts/env a container needs. */
  private podParts(spec: ContainerSpec, parent: pulumi.Resource, prefix: string, volumePrefix = "") {
    const volumes: Input<k8s.types.input.core.v1.Volume>[] = [];
    const mounts: Input<k8s.types.input.core.v1.VolumeMount>[] = [];
    const env: Input<k8s.types.input.core.v1.EnvVar>[] = Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value }));

    const secretData: Record<string, Input<string>> = {};
    for (const [k, v] of Object.entries(spec.secretEnv ?? {})) secretData[`env.${k}`] = v;
    (spec.secretFiles ?? []).forEach((fs, i) => {
      for (const [f, v] of Object.entries(fs.files)) secretData[`file${i}.${f}`] = v;
    });
    let secret: k8s.core.v1.Secret | undefined;
    if (Object.keys(secretData).length) {
      secret = new k8s.core.v1.Secret(
        `${prefix}-secret`,
        {
          metadata: { namespace: this.namespace, labels: this.labels(spec.name) },
          type: "Opaque",
          stringData: secretData,
        },
        this.opts(parent),
      );
      for (const k of Object.keys(spec.secretEnv ?? {})) {
        env.push({ name: k, valueFrom: { secretKeyRef: { name: secret.metadata.name, key: `env.${k}` } } });
      }
      (spec.secretFiles ?? []).forEach((fs, i) => {
        const vol = `${volumePrefix}secret-files-${i}`;
        volumes.push({
          name: vol,
          secret: {
            secretName: secret!.metadata.name,
            defaultMode: 0o440,
            items: Object.keys(fs.files).map((f) => ({ key: `file${i}.${f}`, path: f })),
          },
        });
        mounts.push({ name: vol, mountPath: fs.dir, readOnly: true });
      });
    }

    (spec.configFiles ?? []).forEach((fs: FileSet, i) => {
      const cm = new k8s.core.v1.ConfigMap(
        `${prefix}-config${i ? `-${i}` : ""}`,
        { metadata: { namespace: this.namespace, labels: this.labels(spec.name) }, data: { ...fs.files } },
        this.opts(parent),
      );
      const vol = `${volumePrefix}config-${i}`;
      volumes.push({ name: vol, configMap: { name: cm.metadata.name } });
      mounts.push({ name: vol, mountPath: fs.dir, readOnly: true });
    });

    (spec.security.scratchDirs ?? []).forEach((dir, i) => {
      volumes.push({ name: `${volumePrefix}scratch-${i}`, emptyDir: { sizeLimit: `${SCRATCH_MIB}Mi` } });
      mounts.push({ name: `${volumePrefix}scratch-${i}`, mountPath: dir });
    });
    return { volumes, mounts, env };
  }

  private securityContexts(spec: ContainerSpec) {
    const s = spec.security;
    const pod: k8s.types.input.core.v1.PodSecurityContext = {
      runAsNonRoot: s.runAsNonRoot,
      runAsUser: s.runAsUser,
      runAsGroup: s.runAsGroup,
      fsGroup: s.fsGroup,
      fsGroupChangePolicy: s.fsGroup !== undefined ? "OnRootMismatch" : undefined,
      seccompProfile: { type: "RuntimeDefault" },
    };
    const container: k8s.types.input.core.v1.SecurityContext = {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: s.readOnlyRootFilesystem,
      capabilities: { drop: ["ALL"] },
    };
    return { pod, container };
  }

  private readonly metrics = new MetricsRegistry();
  metricsEndpoints() {
    return this.metrics.list;
  }

  deployService(spec: ServiceSpec, parent: pulumi.Resource, dependsOn: pulumi.Resource[] = []): DeployedService {
    this.metrics.add(spec);
    const name = spec.name;
    const labels = this.labels(name);
    const { volumes, mounts, env } = this.podParts(spec, parent, name);
    const sec = this.securityContexts(spec);
    const stateful = (spec.volumes ?? []).length > 0 || !!spec.stableNetworkIds;
    const headless = !!spec.stableNetworkIds || (stateful && spec.sizing.replicas > 1);
    for (const v of spec.volumes ?? []) mounts.push({ name: v.name, mountPath: v.mountPath });
    const fieldPaths = { podIP: "status.podIP", podName: "metadata.name", namespace: "metadata.namespace" } as const;
    for (const [k, f] of Object.entries(spec.podEnv ?? {})) env.push({ name: k, valueFrom: { fieldRef: { fieldPath: fieldPaths[f] } } });
    let serviceAccountName: pulumi.Output<string> | undefined;
    if (spec.kubernetesAccess?.length || spec.clusterAccess?.length) {
      const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: { namespace: this.namespace, labels } }, this.opts(parent));
      const subjects = [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: this.namespace }];
      const rules = (rs: readonly KubernetesRule[]) => rs.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] }));
      if (spec.kubernetesAccess?.length) {
        const role = new k8s.rbac.v1.Role(`${name}-role`, { metadata: { namespace: this.namespace, labels }, rules: rules(spec.kubernetesAccess) }, this.opts(parent));
        new k8s.rbac.v1.RoleBinding(
          `${name}-rolebinding`,
          { metadata: { namespace: this.namespace, labels }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name }, subjects },
          this.opts(parent),
        );
      }
      if (spec.clusterAccess?.length) {
        const role = new k8s.rbac.v1.ClusterRole(`${name}-clusterrole`, { metadata: { labels }, rules: rules(spec.clusterAccess) }, this.opts(parent));
        new k8s.rbac.v1.ClusterRoleBinding(
          `${name}-clusterrolebinding`,
          { metadata: { labels }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name }, subjects },
          this.opts(parent),
        );
      }
      serviceAccountName = sa.metadata.name;
    }

    const container: k8s.types.input.core.v1.Container = {
      name,
      image: spec.image,
      command: spec.command ? [...spec.command] : undefined,
      args: spec.args ? [...spec.args] : undefined,
      ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol ?? "TCP" })),
      env,
      volumeMounts: mounts,
      resources: {
        requests: { cpu: formatCpu(spec.sizing.cpuRequest), memory: formatMemory(spec.sizing.memoryMiB), "ephemeral-storage": formatMemory(spec.sizing.ephemeralMiB) },
        limits: { cpu: formatCpu(spec.sizing.cpuLimit), memory: formatMemory(spec.sizing.memoryMiB), "ephemeral-storage": formatMemory(spec.sizing.ephemeralMiB) },
      },
      readinessProbe: { ...probe(spec.readiness), periodSeconds: 10, failureThreshold: 3 },
      livenessProbe: { ...probe(spec.liveness ?? spec.readiness), periodSeconds: 20, failureThreshold: 6 },
      startupProbe: {
        ...probe(spec.readiness),
        periodSeconds: 5,
        failureThreshold: Math.ceil((spec.startupSeconds ?? 120) / 5),
      },
      securityContext: sec.container,
    };
    const sidecars = (spec.sidecars ?? []).map((sc): k8s.types.input.core.v1.Container => {
      const parts = this.podParts({ ...sc, security: { ...spec.security, scratchDirs: sc.scratchDirs } }, parent, `${name}-${sc.name}`, `${sc.name}-`);
      volumes.push(...parts.volumes);
      return {
        name: sc.name,
        image: sc.image,
        command: sc.command ? [...sc.command] : undefined,
        args: sc.args ? [...sc.args] : undefined,
        env: parts.env,
        // The service's persistent volumes, where it shares files (sockets, logs) with the main container.
        volumeMounts: [...parts.mounts, ...(spec.volumes ?? []).map((v) => ({ name: v.name, mountPath: v.mountPath }))],
        resources: {
          requests: { cpu: formatCpu(sc.sizing.cpuRequest), memory: formatMemory(sc.sizing.memoryMiB), "ephemeral-storage": formatMemory(sc.sizing.ephemeralMiB) },
          limits: { cpu: formatCpu(sc.sizing.cpuLimit), memory: formatMemory(sc.sizing.memoryMiB), "ephemeral-storage": formatMemory(sc.sizing.ephemeralMiB) },
        },
        securityContext: sec.container,
      };
    });
    const podTemplate: k8s.types.input.core.v1.PodTemplateSpec = {
      metadata: { labels },
      spec: {
        securityContext: sec.pod,
        serviceAccountName,
        // Only pods that call the Kubernetes API get a token.
        automountServiceAccountToken: !!serviceAccountName,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: spec.terminationGraceSeconds,
        containers: [container, ...sidecars],
        volumes,
        ...this.placement(spec),
      },
    };

    const service = new k8s.core.v1.Service(
      `${name}-svc`,
      {
        metadata: { name, namespace: this.namespace, labels },
        spec: {
          selector: this.selector(name),
          ports: spec.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: p.protocol ?? "TCP" })),
          publishNotReadyAddresses: headless ? true : undefined,
          clusterIP: headless ? "None" : undefined,
        },
      },
      this.opts(parent),
    );

    let workload: k8s.apps.v1.StatefulSet | k8s.apps.v1.Deployment;
    if (stateful) {
      const claims = this.claims(spec, parent, labels);
      workload = new k8s.apps.v1.StatefulSet(
        `${name}-sts`,
        {
          metadata: { name, namespace: this.namespace, labels },
          spec: {
            serviceName: name,
            replicas: spec.sizing.replicas,
            podManagementPolicy: "Parallel",
            selector: { matchLabels: this.selector(name) },
            template: podTemplate,
            // The data outlives the workload: deleting or scaling down never deletes a claim.
            persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
            volumeClaimTemplates: (spec.volumes ?? []).map((v) => ({
              metadata: { name: v.name, labels },
              spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: this.cfg.storageClass,
                resources: { requests: { storage: `${v.sizeGiB}Gi` } },
              },
            })),
          },
        },
        // The claims are the PersistentVolumeClaim resources above (a StatefulSet mounts an existing claim
        // of the template's name); the template, replace-on-change in the provider, keeps its first form.
        this.opts(parent, { protect: this.cfg.protectStateful, retainOnDelete: this.cfg.protectStateful, dependsOn: [...dependsOn, ...claims], ignoreChanges: ["spec.volumeClaimTemplates"] }),
      );
    } else {
      workload = new k8s.apps.v1.Deployment(
        `${name}-deploy`,
        {
          metadata: { name, namespace: this.namespace, labels },
          spec: {
            replicas: spec.sizing.replicas,
            selector: { matchLabels: this.selector(name) },
            strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
            template: podTemplate,
          },
        },
        this.opts(parent, { dependsOn }),
      );
    }

    if (spec.sizing.replicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        {
          metadata: { namespace: this.namespace, labels },
          spec: { maxUnavailable: 1, selector: { matchLabels: this.selector(name) } },
        },
        this.opts(parent),
      );
    }

    // A pod's flows are its containers' together.
    const connectsTo = [...(spec.connectsTo ?? []), ...(spec.sidecars ?? []).flatMap((sc) => sc.connectsTo ?? [])];
    this.workloads.push({ name, ports: spec.ports, publicPorts: spec.publicPorts, connectsTo });

    return {
      host: pulumi.interpolate`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`,
      ports: Object.fromEntries(spec.ports.map((p) => [p.name, p.port])),
      resources: [service, workload],
    };
  }

  /**
   * Each replica's claims as resources of their own, named as the StatefulSet's templates name them
   * (`<volume>-<service>-<ordinal>`): a size change expands a claim in place (its request is not a
   * replace-on-change field, the template's is), a guard refuses a shrink or a storage class change
   * at preview, and no destroy or scale-down ever deletes one.
   */
  private claims(spec: ServiceSpec, parent: pulumi.Resource, labels: Record<string, string>): pulumi.Resource[] {
    const volumes = spec.volumes ?? [];
    if (!volumes.length) return [];
    const storageClass = this.cfg.storageClass ?? "";
    const sizes: Record<string, ClaimSize> = {};
    for (let i = 0; i < spec.sizing.replicas; i++) {
      for (const v of volumes) {
        sizes[`${v.name}-${spec.name}-${i}`] = { sizeGiB: v.sizeGiB, storageClass, sizeKey: `${this.cfg.project}:${v.configKey}`, classKey: `${this.cfg.project}:storageClass` };
      }
    }
    const guard = new VolumeClaimsGuard(`${spec.name}-claims-guard`, { claims: sizes }, { parent });
    return Object.entries(sizes).map(
      ([claim, c]) =>
        new k8s.core.v1.PersistentVolumeClaim(
          `${claim}-pvc`,
          {
            // The provider's claim await waits for "Pending" when the class binds on first use, so it never
            // ends for a bound claim being grown (observed on the real provider): the StatefulSet's await
            // proves the claims (its pods are ready only once they are bound); a growth completes on its own.
            metadata: { name: claim, namespace: this.namespace, labels, annotations: { "pulumi.com/skipAwait": "true" } },
            spec: { accessModes: ["ReadWriteOnce"], storageClassName: this.cfg.storageClass, resources: { requests: { storage: `${c.sizeGiB}Gi` } } },
          },
          this.opts(parent, { protect: this.cfg.protectStateful, retainOnDelete: true, dependsOn: [guard] }),
        ),
    );
  }

  /**
   * Replicas of one service on different nodes: required for quorum members (a node failure may take one
   * vote, never a majority), preferred otherwise; and spread over zones where the cluster has them.
   */
  private placement(spec: ServiceSpec): Pick<k8s.types.input.core.v1.PodSpec, "affinity" | "topologySpreadConstraints"> {
    if (spec.sizing.replicas < 2) return {};
    const term = { labelSelector: { matchLabels: this.selector(spec.name) }, topologyKey: "kubernetes.io/hostname" };
    const zones = [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: this.selector(spec.name) } }];
    if (spec.placement === "one-per-node") {
      return { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } }, topologySpreadConstraints: zones };
    }
    return { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } }, topologySpreadConstraints: zones };
  }

  fromDeployer(url: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.output(url);
  }

  finish(): void {
    for (const p of renderNetworkPolicies(this.workloads, { namespace: this.cfg.namespace, selector: (name) => this.selector(name) })) {
      new k8s.networking.v1.NetworkPolicy(
        `netpol-${p.name}`,
        {
          metadata: { name: p.name, namespace: this.namespace, labels: { "app.kubernetes.io/part-of": "rtdw", "app.kubernetes.io/instance": this.cfg.stack, "app.kubernetes.io/managed-by": "pulumi" } },
          spec: p.spec,
        },
        this.opts(this.parent),
      );
    }
  }

  runTask(spec: TaskSpec, parent: pulumi.Resource, dependsOn: pulumi.Resource[]): pulumi.Resource {
    this.workloads.push({ name: spec.name, ports: [], connectsTo: spec.connectsTo ?? [] });
    const prefix = `${spec.name}-${spec.revision.slice(0, 8)}`;
    const { volumes, mounts, env } = this.podParts(spec, parent, prefix);
    const sec = this.securityContexts(spec);
    return new k8s.batch.v1.Job(
      `${prefix}-job`,
      {
        metadata: { namespace: this.namespace, labels: this.labels(spec.name) },
        spec: {
          backoffLimit: 6,
          activeDeadlineSeconds: 900,
          template: {
            metadata: { labels: this.labels(spec.name) },
            spec: {
              restartPolicy: "OnFailure",
              securityContext: sec.pod,
              automountServiceAccountToken: false,
              containers: [
                {
                  name: spec.name,
                  image: spec.image,
                  command: spec.command ? [...spec.command] : undefined,
                  args: spec.args ? [...spec.args] : undefined,
                  env,
                  volumeMounts: mounts,
                  resources: {
                    requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": `${SCRATCH_MIB}Mi` },
                    limits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": `${SCRATCH_MIB}Mi` },
                  },
                  securityContext: sec.container,
                },
              ],
              volumes,
            },
          },
        },
      },
      this.opts(parent, { dependsOn, deleteBeforeReplace: true }),
    );
  }
}

/** Size limit of each writable scratch directory and of a task's whole writable layer. */
const SCRATCH_MIB = 256;

function probe(p: Probe): k8s.types.input.core.v1.Probe {
  if ("http" in p) return { httpGet: { path: p.http.path, port: p.http.port } };
  if ("tcp" in p) return { tcpSocket: { port: p.tcp.port } };
  return { exec: { command: [...p.exec] } };
}

