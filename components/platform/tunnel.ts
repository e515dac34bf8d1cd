/**
 * How the stack's providers (Flink jobs, Grafana) reach the SQL Gateway, JobManager, StreamPark and
 * Grafana from where `pulumi up` runs (a laptop, a CI runner) when they are cluster services created
 * in the same run: a tunnel
 * through the Kubernetes API (the pods/portforward subresource), authenticated with the same
 * kubeconfig and context the stack deploys with. Nothing is exposed outside the cluster and no
 * extra credential exists; whoever may deploy the stack may reach its APIs, nobody else.
 *
 * A URL whose host is `<service>.<namespace>.svc[.cluster.local]` is rewritten to a local port that
 * forwards to a ready pod behind that Service. Other URLs (the docker target's 127.0.0.1 ports, a
 * runner inside the cluster) are used as they are.
 */
export interface TunnelConfig {
  /** kubeconfig context; the current one when unset. */
  readonly context?: string;
}

export interface ServiceAddress {
  readonly service: string;
  readonly namespace: string;
  readonly port: number;
}

/** The Service a cluster-internal URL names, or undefined for any other URL. */
export function serviceOf(url: string): ServiceAddress | undefined {
  const u = new URL(url);
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/.exec(u.hostname);
  if (!m) return undefined;
  return { service: m[1], namespace: m[2], port: Number(u.port) || (u.protocol === "https:" ? 443 : 80) };
}

/**
 * Opens one local listener per cluster-internal URL, runs `fn` with a function mapping each URL to
 * the one to use, then closes them.
 */
export async function withApiAccess<T>(urls: readonly string[], tunnel: TunnelConfig | undefined, fn: (reach: (url: string) => string) => Promise<T>): Promise<T> {
  const targets = [...new Set(urls.filter((u) => serviceOf(u)))];
  if (!tunnel || targets.length === 0) return fn((u) => u);
  try {
    return await tunnelled(targets, tunnel, fn);
  } catch (e) {
    if ((e as { tunnel?: boolean }).tunnel === false) throw e;
    throw new Error(`could not reach ${targets.join(", ")} through the Kubernetes API (context ${tunnel.context ?? "current"}): ${(e as Error).message}`);
  }
}

async function tunnelled<T>(targets: string[], tunnel: TunnelConfig, fn: (reach: (url: string) => string) => Promise<T>): Promise<T> {
  // Required here, in the provider process (the client cannot be serialized with the provider).
  const k8s = require("@kubernetes/client-node") as typeof import("@kubernetes/client-node");
  const net = require("net") as typeof import("net");
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  if (tunnel.context) kc.setCurrentContext(tunnel.context);
  const core: import("@kubernetes/client-node").CoreV1Api = kc.makeApiClient(k8s.CoreV1Api);
  const forward = new k8s.PortForward(kc);
  const servers: import("net").Server[] = [];
  const map = new Map<string, string>();
  try {
    for (const url of targets) {
      const a = serviceOf(url)!;
      // @kubernetes/client-node 0.22 (CommonJS, so it loads with require in the provider process).
      const svc = (await core.readNamespacedService(a.service, a.namespace)).body;
      const selector = Object.entries(svc.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
      const pods = (await core.listNamespacedPod(a.namespace, undefined, undefined, undefined, undefined, selector)).body;
      const pod = pods.items.find((p) => p.status?.phase === "Running" && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
      const podName = pod?.metadata?.name;
      if (!pod || !podName) throw new Error(`no ready pod behind Service ${a.namespace}/${a.service} (selector ${selector}) to tunnel ${url} to`);
      const sp = (svc.spec?.ports ?? []).find((p) => p.port === a.port);
      let target = typeof sp?.targetPort === "number" ? sp.targetPort : a.port;
      if (typeof sp?.targetPort === "string") {
        const named = pod.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.name === sp.targetPort);
        target = named?.containerPort ?? a.port;
      }
      const server = net.createServer((socket) => {
        forward.portForward(a.namespace, podName, [target], socket, null, socket).catch(() => socket.destroy());
      });
      await new Promise<void>((res, rej) => server.once("error", rej).listen(0, "127.0.0.1", () => res()));
      servers.push(server);
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String((server.address() as import("net").AddressInfo).port);
      map.set(url, u.toString().replace(/\/$/, url.endsWith("/") ? "/" : ""));
    }
    // Errors of the work itself are not tunnel errors: pass them on unchanged.
    try {
      return await fn((u) => map.get(u) ?? u);
    } catch (e) {
      throw Object.assign(e as Error, { tunnel: false });
    }
  } finally {
    for (const s of servers) s.close();
  }
}
