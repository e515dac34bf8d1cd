import * as docker from "@pulumi/docker";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DockerTarget } from "./docker";
import { KubernetesTarget } from "./kubernetes";
import { Target, TargetSettings } from "./service";

/** The stack's target adapter with its explicit provider (never the ambient default). */
export function createTarget(cfg: TargetSettings, parent: pulumi.Resource): Target {
  if (cfg.target === "sandbox") throw new Error('target "sandbox" provisions no services: its platform already runs (see components/existingPlatform.ts)');
  if (cfg.target === "docker") {
    const provider = new docker.Provider("docker", {}, { parent });
    const network = new docker.Network(
      "network",
      { name: `rtdw-${cfg.stack}`, driver: "bridge", internal: false, labels: [{ label: "app.kubernetes.io/part-of", value: "rtdw" }] },
      { parent, provider },
    );
    return new DockerTarget(cfg, provider, network);
  }
  const provider = new k8s.Provider("k8s", { context: cfg.kubernetesContext, enableServerSideApply: true }, { parent });
  const namespace = new k8s.core.v1.Namespace(
    "namespace",
    {
      metadata: {
        name: cfg.namespace,
        labels: {
          "app.kubernetes.io/part-of": "rtdw",
          // Every pod of the stack meets the restricted Pod Security Standard; admission refuses any that does not.
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    },
    // Deleting the namespace deletes every claim in it: on every Kubernetes stack it is protected, and
    // a destroy (`--exclude-protected`) or its removal from the program leaves it in the cluster.
    { parent, provider, protect: true, retainOnDelete: true },
  );
  return new KubernetesTarget(cfg, provider, namespace, parent);
}
