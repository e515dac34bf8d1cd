import * as pulumi from "@pulumi/pulumi";

/** The buckets every object store provides. */
export interface Buckets {
  /** Paimon warehouse (ODS/DWD tables). */
  readonly warehouse: string;
  /** Flink checkpoints and savepoints. */
  readonly checkpoints: string;
  /** StarRocks shared-data storage volume. */
  readonly starrocks: string;
}

/** How every consumer (Flink, Paimon, StarRocks, the sandbox) reaches object storage. */
export interface ObjectStoreEndpoint {
  readonly kind: "minio" | "s3";
  /** http(s)://host:port */
  readonly endpoint: string;
  readonly region: string;
  /** MinIO needs path-style addressing; AWS uses virtual-hosted style. */
  readonly pathStyle: boolean;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly buckets: Buckets;
}

/** Each field its own Output, so only the secret ones are secret. */
export type Connection<T> = { readonly [K in keyof T]: pulumi.Output<T[K]> };

export interface ObjectStore {
  readonly connection: Connection<ObjectStoreEndpoint>;
}

export function bucketNames(prefix: string): Buckets {
  return { warehouse: `${prefix}-warehouse`, checkpoints: `${prefix}-checkpoints`, starrocks: `${prefix}-starrocks` };
}

/** What the application identity may do, on MinIO and S3 alike: read and write objects of its buckets. */
export function bucketAccessStatements(bucketArns: readonly string[]) {
  return [
    { Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], Resource: [...bucketArns] },
    {
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      Resource: bucketArns.map((a) => `${a}/*`),
    },
  ];
}

/**
 * Savepoints are deleted by the job lifecycle (it keeps the last three per job); versioning keeps
 * a deleted object as a noncurrent version for this grace period before it is purged for good.
 */
export const LIFECYCLE_NOTE = "noncurrent versions (deleted checkpoints/savepoints) expire after savepointRetentionDays";
