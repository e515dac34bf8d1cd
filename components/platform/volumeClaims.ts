import * as pulumi from "@pulumi/pulumi";

/** One persistent claim as the stack sizes it. */
export interface ClaimSize {
  readonly sizeGiB: number;
  /** "" for the cluster's default class. */
  readonly storageClass: string;
  /** The config key that sizes it, as the user types it ("rtdw:volumes.kafka"). */
  readonly sizeKey: string;
  /** The config key that picks its class ("rtdw:storageClass"). */
  readonly classKey: string;
}

export interface VolumeClaimsInputs {
  /** By claim name (`<volume>-<service>-<ordinal>`, the name a StatefulSet mounts). */
  readonly claims: Readonly<Record<string, ClaimSize>>;
}

/**
 * What a change of the claims' config would do to data that exists: a claim only grows (Kubernetes
 * refuses a smaller request, and the data would have to move), and a claim's storage class cannot
 * change (the provider would delete the claim and its volume to make a new one).
 */
export function claimChangeProblems(olds: VolumeClaimsInputs | undefined, news: VolumeClaimsInputs): string[] {
  const problems: string[] = [];
  for (const [claim, now] of Object.entries(news.claims)) {
    const was = olds?.claims?.[claim];
    if (!was) continue;
    if (now.sizeGiB < was.sizeGiB) {
      problems.push(`${now.sizeKey}: claim ${claim} holds ${was.sizeGiB}Gi; ${now.sizeGiB}Gi would shrink it, and a claim only grows (Kubernetes refuses a smaller request). Keep ${was.sizeGiB}Gi or more`);
    }
    if (now.storageClass !== was.storageClass) {
      const name = (c: string) => (c ? `"${c}"` : "the cluster's default");
      problems.push(
        `${now.classKey}: claim ${claim} is on storage class ${name(was.storageClass)}; moving it to ${name(now.storageClass)} would delete the claim and its data to make a new one. ` +
          `Keep the class, or move the data first (docs/operations.md, "Moving a volume to another storage class")`,
      );
    }
  }
  return problems;
}

/**
 * A guard with no cloud object of its own: its check runs at preview with the claims' previous sizes
 * and classes from the state, and refuses a change that would lose data before anything is touched.
 */
export const volumeClaimsProvider: pulumi.dynamic.ResourceProvider<VolumeClaimsInputs, VolumeClaimsInputs> = {
  async check(olds, news) {
    return { inputs: news, failures: claimChangeProblems(olds as VolumeClaimsInputs | undefined, news).map((reason) => ({ property: "claims", reason })) };
  },
  async diff(_id, olds, news) {
    return { changes: JSON.stringify(olds.claims) !== JSON.stringify(news.claims), replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs) {
    return { id: Object.keys(inputs.claims).sort().join(","), outs: inputs };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete() {},
};

export class VolumeClaimsGuard extends pulumi.dynamic.Resource {
  constructor(name: string, args: { readonly claims: pulumi.Input<Record<string, ClaimSize>> }, opts?: pulumi.CustomResourceOptions) {
    super(volumeClaimsProvider, name, args, opts, "rtdw", "VolumeClaims");
  }
}
