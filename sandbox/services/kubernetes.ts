import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { execFileSync } from "child_process";
import { ETCD_BIN, KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN, KUBE_SCHEDULER_BIN, KWOK_BIN, KWOK_VERSION } from "../install";
import { ensureDir } from "../paths";
import { run } from "../process";
import { SandboxService, ServiceContext } from "./types";

/**
 * A real Kubernetes control plane without containers: etcd, kube-apiserver, kube-scheduler and
 * kube-controller-manager on loopback, and kwok playing the kubelet of simulated nodes (their status,
 * pods running and ready, job pods completing). Objects are stored, validated, admitted (Pod
 * Security, ServiceAccount) and authorized (RBAC) exactly as a cluster's API server does; the real
 * controllers make ReplicaSets, pods and claim bindings, the real scheduler places the pods. No
 * node exists until a test creates the pool it needs (annotated `kwok.x-k8s.io/node: fake`), and
 * nothing runs in a pod. The Kubernetes checks (tests/integration/kubernetes-api.test.ts) and the
 * cluster stack (tests/integration/cluster-stack.test.ts) use it. Certificates are generated once
 * per sandbox with openssl.
 */

/** Where the admin client's credentials and the kubeconfig live (CONF/kubernetes). */
export interface KubeAccess {
  readonly server: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly kubeconfig: string;
}

export function kubeAccess({ p, conf }: ServiceContext): KubeAccess {
  const dir = conf("kubernetes");
  return {
    server: `https://127.0.0.1:${p.kubeApiServer}`,
    ca: path.join(dir, "ca.crt"),
    cert: path.join(dir, "admin.crt"),
    key: path.join(dir, "admin.key"),
    kubeconfig: path.join(dir, "kubeconfig"),
  };
}

function ensureCertificates(dir: string, access: KubeAccess): void {
  const f = (name: string) => path.join(dir, name);
  if (fs.existsSync(access.kubeconfig) && fs.existsSync(f("serving.crt"))) return;
  const ssl = (...args: string[]) => run("openssl", args);
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=rtdw-sandbox-kubernetes-ca", "-keyout", f("ca.key"), "-out", f("ca.crt"));
  // The admin client: system:masters, as kubeadm's admin.conf.
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/O=system:masters/CN=rtdw-sandbox-admin", "-keyout", f("admin.key"), "-out", f("admin.csr"));
  ssl("x509", "-req", "-in", f("admin.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "3650", "-out", f("admin.crt"));
  // The API server's serving certificate, for 127.0.0.1, signed by the same CA the clients trust.
  fs.writeFileSync(f("serving.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver", "-keyout", f("serving.key"), "-out", f("serving.csr"));
  ssl("x509", "-req", "-in", f("serving.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "3650", "-extfile", f("serving.ext"), "-out", f("serving.crt"));
  // The key pair that signs and verifies ServiceAccount tokens.
  ssl("genrsa", "-out", f("sa.key"), "2048");
  ssl("rsa", "-in", f("sa.key"), "-pubout", "-out", f("sa.pub"));
  for (const k of ["ca.key", "admin.key", "serving.key", "sa.key"]) fs.chmodSync(f(k), 0o600);
  fs.writeFileSync(
    access.kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster: { server: "${access.server}", certificate-authority: "${access.ca}" }
users:
- name: admin
  user: { client-certificate: "${access.cert}", client-key: "${access.key}" }
contexts:
- name: sandbox
  context: { cluster: sandbox, user: admin }
current-context: sandbox
`,
    { mode: 0o600 },
  );
}

/** GET on the API server as the admin client; status and body. */
export function kubeGet(access: KubeAccess, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = https.request(
      `${access.server}${urlPath}`,
      { method: "GET", ca: fs.readFileSync(access.ca), cert: fs.readFileSync(access.cert), key: fs.readFileSync(access.key), timeout: 5000 },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export function kubernetesServices(ctx: ServiceContext): SandboxService[] {
  const { p, dir } = ctx;
  const access = kubeAccess(ctx);
  const confDir = path.dirname(access.kubeconfig);
  const etcd: SandboxService = {
    name: "etcd",
    port: "etcd",
    after: [],
    startupSeconds: 30,
    prepare() {
      ensureDir(dir("etcd"), 0o700);
    },
    process: () => ({
      name: "etcd",
      command: ETCD_BIN,
      args: [
        "--name=sandbox",
        `--data-dir=${dir("etcd")}`,
        `--listen-client-urls=http://127.0.0.1:${p.etcd}`,
        `--advertise-client-urls=http://127.0.0.1:${p.etcd}`,
        `--listen-peer-urls=http://127.0.0.1:${p.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${p.etcdPeer}`,
        `--initial-cluster=sandbox=http://127.0.0.1:${p.etcdPeer}`,
        "--listen-metrics-urls=",
        "--log-level=warn",
      ],
    }),
    async healthy() {
      return new Promise((resolve) => {
        const req = require("http").get(`http://127.0.0.1:${p.etcd}/health`, (res: import("http").IncomingMessage) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
        });
        req.on("error", () => resolve(false));
      });
    },
  };
  const apiServer: SandboxService = {
    name: "kube-apiserver",
    port: "kubeApiServer",
    after: ["etcd"],
    startupSeconds: 60,
    prepare() {
      ensureCertificates(confDir, access);
    },
    process: () => ({
      name: "kube-apiserver",
      command: KUBE_APISERVER_BIN,
      args: [
        "--bind-address=127.0.0.1",
        `--secure-port=${p.kubeApiServer}`,
        "--advertise-address=127.0.0.1",
        "--endpoint-reconciler-type=none",
        `--tls-cert-file=${path.join(confDir, "serving.crt")}`,
        `--tls-private-key-file=${path.join(confDir, "serving.key")}`,
        `--etcd-servers=http://127.0.0.1:${p.etcd}`,
        `--client-ca-file=${access.ca}`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${path.join(confDir, "sa.pub")}`,
        `--service-account-signing-key-file=${path.join(confDir, "sa.key")}`,
        "--service-cluster-ip-range=10.96.0.0/12",
        "--authorization-mode=RBAC",
        "--anonymous-auth=false",
        "--v=0",
      ],
    }),
    async healthy() {
      return (await kubeGet(access, "/readyz")).status === 200;
    },
  };
  // Health checks need no client identity: no lookup of the front proxy's CA, which this API server has none of.
  const kubeconfigFlags = [`--kubeconfig=${access.kubeconfig}`, `--authentication-kubeconfig=${access.kubeconfig}`, `--authorization-kubeconfig=${access.kubeconfig}`, "--authentication-skip-lookup=true"];
  /** A component's /healthz over HTTPS on loopback (self-signed serving certificate, no client auth for /healthz). */
  const healthz = (port: number) =>
    new Promise<boolean>((resolve) => {
      const req = https.get(`https://127.0.0.1:${port}/healthz`, { rejectUnauthorized: false, timeout: 3000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
      req.on("timeout", () => req.destroy());
    });
  const scheduler: SandboxService = {
    name: "kube-scheduler",
    port: "kubeScheduler",
    after: ["kube-apiserver"],
    startupSeconds: 60,
    prepare() {},
    process: () => ({
      name: "kube-scheduler",
      command: KUBE_SCHEDULER_BIN,
      args: [...kubeconfigFlags, "--bind-address=127.0.0.1", `--secure-port=${p.kubeScheduler}`, "--leader-elect=false", "--v=0"],
    }),
    healthy: () => healthz(p.kubeScheduler),
  };
  const controllerManager: SandboxService = {
    name: "kube-controller-manager",
    port: "kubeControllerManager",
    after: ["kube-apiserver"],
    startupSeconds: 60,
    prepare() {},
    process: () => ({
      name: "kube-controller-manager",
      command: KUBE_CONTROLLER_MANAGER_BIN,
      args: [
        ...kubeconfigFlags,
        "--bind-address=127.0.0.1",
        `--secure-port=${p.kubeControllerManager}`,
        "--leader-elect=false",
        "--cluster-name=rtdw-sandbox",
        // Tokens for the ServiceAccounts pods run as, signed with the key the API server verifies.
        `--service-account-private-key-file=${path.join(confDir, "sa.key")}`,
        `--root-ca-file=${access.ca}`,
        "--use-service-account-credentials=false",
        "--v=0",
      ],
    }),
    healthy: () => healthz(p.kubeControllerManager),
  };
  const kwok: SandboxService = {
    name: "kwok",
    port: "kwok",
    after: ["kube-apiserver"],
    startupSeconds: 60,
    prepare() {
      for (const f of kwokStages()) if (!fs.existsSync(f)) throw new Error(`kwok's stage ${f} is missing: run npm run sandbox -- install`);
    },
    process: () => ({
      name: "kwok",
      command: KWOK_BIN,
      args: [
        `--kubeconfig=${access.kubeconfig}`,
        `--config=${kwokStages().join(",")}`,
        // Only the nodes a test creates for its pool; the pods on them follow.
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        `--server-address=127.0.0.1:${p.kwok}`,
        "--node-lease-duration-seconds=40",
      ],
    }),
    async healthy() {
      return new Promise<boolean>((resolve) => {
        const req = require("http").get(`http://127.0.0.1:${p.kwok}/healthz`, (res: import("http").IncomingMessage) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on("error", () => resolve(false));
      });
    },
  };
  return [etcd, apiServer, scheduler, controllerManager, kwok];
}

/**
 * The behaviour kwok plays, from its own release (read from the Go module cache, where its build put
 * it): nodes become Ready and renew their leases, pods become Running and Ready, pods of a Job
 * complete, deleted pods go.
 */
export function kwokStages(): string[] {
  const modcache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
  const stage = path.join(modcache, `sigs.k8s.io/kwok@${KWOK_VERSION}`, "kustomize", "stage");
  return ["node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml", "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml"].map((f) => path.join(stage, f));
}
