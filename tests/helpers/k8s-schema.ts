import { Registered } from "./mocks";

/**
 * Validates a Kubernetes object the program produced against the Kubernetes OpenAPI schema, through
 * the kubernetes-models classes (generated from that schema). Throws with the schema's own message.
 */
export function validateKubernetesObject(r: Registered): void {
  // Token "kubernetes:apps/v1:Deployment" -> module "kubernetes-models/apps/v1", class "Deployment".
  const m = /^kubernetes:([^:]+):(\w+)$/.exec(r.type);
  if (!m) throw new Error(`not a Kubernetes resource token: ${r.type}`);
  const [group, version] = m[1].includes("/") ? m[1].split("/") : ["core", m[1]];
  const groupPath = group === "core" ? version : `${expandGroup(group)}/${version}`;
  const mod = require(`kubernetes-models/${groupPath}`);
  const Model = mod[m[2]];
  if (!Model) throw new Error(`kubernetes-models has no ${m[2]} in ${groupPath}`);
  const obj = JSON.parse(JSON.stringify(r.inputs));
  new Model(obj).validate();
}

function expandGroup(group: string): string {
  const full: Record<string, string> = { networking: "networking.k8s.io", rbac: "rbac.authorization.k8s.io", storage: "storage.k8s.io" };
  return full[group] ?? group;
}
