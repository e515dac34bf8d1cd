import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { ETCD_BIN, KUBE_APISERVER_BIN } from "../install";
import { ensureDir } from "../paths";
import { run } from "../process";
import { SandboxService, ServiceContext } from "./types";

/**
 * A real Kubernetes API server without a cluster: etcd and kube-apiserver on loopback. Objects are
 * stored, validated, admitted (Pod Security, ServiceAccount) and authorized (RBAC) exactly as a
 * cluster's API server does; nothing schedules or runs pods (no kubelet, no controller-manager).
 * The Kubernetes checks (tests/integration/kubernetes-api.test.ts) create the test and prod stacks'
 * objects in it. Certificates are generated once per sandbox with openssl.
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
  return [etcd, apiServer];
}
