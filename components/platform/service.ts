import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { Sizing, StackConfig } from "../config";
import { MetricsEndpoint, ScrapeAuth } from "./scrape";

/**
 * A target-neutral description of a long-running service: what a service file says about itself.
 * Adapters (kubernetes.ts, docker.ts) turn it into Kubernetes objects or Docker containers.
 */

export interface PortSpec {
  /** IANA-style name, also the key in DeployedService.ports (e.g. "http", "sql"). */
  readonly name: string;
  readonly port: number;
  /** TCP unless said otherwise (syslog over UDP). */
  readonly protocol?: "TCP" | "UDP";
}

/** A health check; adapters render it as a probe (Kubernetes) or a HEALTHCHECK (Docker). */
export type Probe =
  | { readonly http: { readonly path: string; readonly port: number } }
  | { readonly tcp: { readonly port: number } }
  | { readonly exec: readonly string[] };

/** What the target adapters read of the stack config: where and how the stack's objects are named, kept and reached. */
export type TargetSettings = Pick<StackConfig, "target" | "project" | "stack" | "namespace" | "protectStateful" | "storageClass" | "kubernetesContext" | "hostPorts">;

export interface VolumeSpec {
  readonly name: string;
  readonly mountPath: string;
  readonly sizeGiB: number;
  /** The stack config key that sizes it (without the project), named when a change is refused. */
  readonly configKey: string;
}

export interface FileSet {
  /** Directory the files are mounted into (each file becomes <dir>/<key>). */
  readonly dir: string;
  readonly files: Readonly<Record<string, pulumi.Input<string>>>;
}

export interface SecurityProfile {
  /** UID the image's process runs as; undefined keeps the image's USER. */
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  /** Group that owns mounted volumes (Kubernetes fsGroup). */
  readonly fsGroup?: number;
  /** False only for images that cannot run unprivileged; say why in `rootReason`. */
  readonly runAsNonRoot: boolean;
  readonly rootReason?: string;
  readonly readOnlyRootFilesystem: boolean;
  /** Writable scratch directories needed with a read-only root filesystem (emptyDir / tmpfs). */
  readonly scratchDirs?: readonly string[];
}

/** What a container runs, shared by services and one-shot tasks. */
export interface ContainerSpec {
  /** Short DNS-safe name: the Kubernetes Service / Docker network alias ("postgres"). */
  readonly name: string;
  readonly image: pulumi.Input<string>;
  readonly command?: readonly string[];
  readonly args?: readonly pulumi.Input<string>[];
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Values that are secrets: a Kubernetes Secret, never a ConfigMap or a plain env value. */
  readonly secretEnv?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Non-secret files (ConfigMap). */
  readonly configFiles?: readonly FileSet[];
  /** Files that contain credentials (Secret). */
  readonly secretFiles?: readonly FileSet[];
  readonly security: SecurityProfile;
  /**
   * Every connection the container opens. On Kubernetes these are the only flows its NetworkPolicies
   * allow (egress from it, ingress into the peer); a peer or port name that no service declares fails.
   */
  readonly connectsTo?: readonly Peer[];
}

/** A connection a container opens: to a service of the stack (by its name and port name), or outside the stack. */
export type Peer = { readonly service: string; readonly port: string } | OutsidePeer;

/** A destination outside the stack's namespace: another namespace or beyond the cluster, on these ports only. */
export interface OutsidePeer {
  /** What it is, for the reader of the rendered policy ("business MySQL", "Kubernetes API"). */
  readonly outside: string;
  readonly ports: readonly number[];
}

export function isOutside(p: Peer): p is OutsidePeer {
  return "outside" in p;
}

/** The Kubernetes API server (Flink's HA leader election, Prometheus' service discovery): 443 behind the Service, 6443 on the endpoints. */
export const KUBERNETES_API: OutsidePeer = { outside: "Kubernetes API", ports: [443, 6443] };

/** Where replicas may run relative to each other. */
export type Placement =
  /** At most one replica per node: quorum members (Kafka controllers, StarRocks FEs) and HA pairs, so no node holds a majority. */
  | "one-per-node"
  /** Spread evenly over nodes where possible. */
  | "spread";

export interface ServiceSpec extends ContainerSpec {
  readonly ports: readonly PortSpec[];
  /** How replicas are placed on nodes (ignored with one replica); "spread" unless said otherwise. */
  readonly placement?: Placement;
  /** Persistent volumes; a service with any is stateful (StatefulSet + PVCs, named Docker volumes). */
  readonly volumes?: readonly VolumeSpec[];
  readonly sizing: Sizing;
  readonly readiness: Probe;
  readonly liveness?: Probe;
  /** How long the first start may take before liveness applies. */
  readonly startupSeconds?: number;
  /** Ports reachable from outside the platform's own pods (e.g. the tracking collector). */
  readonly publicPorts?: readonly string[];
  /** Each replica gets a stable DNS name (<name>-<i>.<name>): quorum members, registered nodes. */
  readonly stableNetworkIds?: boolean;
  /** Kubernetes API access the process needs (Flink's HA leader election on ConfigMaps). */
  readonly kubernetesAccess?: readonly KubernetesRule[];
  /** Cluster-scoped Kubernetes API access (Prometheus reading each node's cAdvisor); ignored on Docker. */
  readonly clusterAccess?: readonly KubernetesRule[];
  /** Environment filled from the pod itself (downward API); Docker fills the container's name. */
  readonly podEnv?: Readonly<Record<string, "podIP" | "podName" | "namespace">>;
  /** Seconds to finish in-flight work on stop (Kafka, StarRocks FE). */
  readonly terminationGraceSeconds?: number;
  /** Where the service serves Prometheus metrics; the stack's Prometheus scrapes every service that says so. */
  readonly metrics?: MetricsEndpoint<pulumi.Input<string>>;
  /**
   * Helpers that live and die with each replica: they share its network namespace (loopback) and its
   * persistent volumes, run as the same user, and declare their own connections (PostgreSQL's backups).
   */
  readonly sidecars?: readonly SidecarSpec[];
}

/** A container beside a service's main one (a Kubernetes sidecar; a Docker container in its network namespace). */
export interface SidecarSpec extends Omit<ContainerSpec, "security" | "secretFiles"> {
  /** Its own CPU and memory; replicas follow the service. */
  readonly sizing: Omit<Sizing, "replicas">;
  /** Writable scratch directories of its own (its root filesystem is read-only, as the service's). */
  readonly scratchDirs?: readonly string[];
}

export interface KubernetesRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/** A one-shot container run after its dependencies are up: bootstrap SQL, bucket creation. */
export interface TaskSpec extends ContainerSpec {
  /** Changing this re-runs the task (a hash of the inputs that matter). */
  readonly revision: string;
}

/** What an adapter hands back: the address other services use, from the created resource. */
export interface DeployedService {
  /** Host name resolvable by the other services (cluster DNS / Docker network alias). */
  readonly host: pulumi.Output<string>;
  readonly ports: Readonly<Record<string, number>>;
  /** The resources to depend on before using the service. */
  readonly resources: pulumi.Resource[];
}

/** A service's metrics endpoint as deployed: what the stack's Prometheus configuration is rendered from. */
export interface DeployedMetrics {
  /** The service name (job label, Docker alias, pods' app.kubernetes.io/name). */
  readonly job: string;
  readonly port: number;
  /** The name of that port in the service's spec (what a Peer names). */
  readonly portName: string;
  readonly path: string;
  readonly auth?: ScrapeAuth<pulumi.Input<string>>;
}

/** Collects the metrics endpoints of the services an adapter deploys. */
export class MetricsRegistry {
  private readonly endpoints: DeployedMetrics[] = [];
  add(spec: ServiceSpec): void {
    if (!spec.metrics) return;
    this.endpoints.push({ job: spec.name, port: portOf(spec, spec.metrics.port), portName: spec.metrics.port, path: spec.metrics.path ?? "/metrics", auth: spec.metrics.auth });
  }
  get list(): readonly DeployedMetrics[] {
    return [...this.endpoints];
  }
}

export interface Target {
  readonly kind: "docker" | "kubernetes";
  /** The metrics endpoints of every service deployed so far, in order. */
  metricsEndpoints(): readonly DeployedMetrics[];
  /** dependsOn: what must exist before the workload starts (a schema, a bucket). */
  deployService(spec: ServiceSpec, parent: pulumi.Resource, dependsOn?: pulumi.Resource[]): DeployedService;
  runTask(spec: TaskSpec, parent: pulumi.Resource, dependsOn: pulumi.Resource[]): pulumi.Resource;
  /**
   * The URL at which the deploying machine (where the providers run) reaches a service's URL: its
   * published loopback port on docker; on Kubernetes the URL itself, which the providers' tunnel resolves.
   */
  fromDeployer(url: pulumi.Input<string>): pulumi.Output<string>;
  /**
   * Called once after the last service and task: renders what they declared about each other
   * (Kubernetes: the NetworkPolicies from every `connectsTo`). Fails on a peer nobody declares.
   */
  finish(): void;
}

export function portOf(spec: { ports: readonly PortSpec[] }, name: string): number {
  const p = spec.ports.find((x) => x.name === name);
  if (!p) throw new Error(`service has no port named "${name}" (has: ${spec.ports.map((x) => x.name).join(", ")})`);
  return p.port;
}

/** A short stable hash of what a task does, so a changed task runs again. */
export function revisionOf(...parts: unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}
