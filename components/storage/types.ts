import * as pulumi from "@pulumi/pulumi";
import { Peer } from "../platform/service";

/** The buckets every object store provides. */
export interface Buckets {
  /** Paimon warehouse (ODS/DWD tables). */
  readonly warehouse: string;
  /** Flink checkpoints and savepoints. */
  readonly checkpoints: string;
  /** StarRocks shared-data storage volume. */
  readonly starrocks: string;
  /** PostgreSQL's base backups and WAL archive (pgBackRest's repository, encrypted). */
  readonly backups: string;
  /** The collector's raw archive: every event as received, under raw/dt=/hr=, expired after rtdw:collector.archiveDays. */
  readonly archive: string;
}

/** How every consumer (Flink, Paimon, StarRocks, the sandbox) reaches object storage. */
export interface ObjectStoreEndpoint {
  readonly kind: "minio" | "s3";
  /** http(s)://host:port */
  readonly endpoint: string;
  readonly region: string;
  /** MinIO needs path-style addressing; AWS uses virtual-hosted style. */
  readonly pathStyle: boolean;
  /** The application identity: the warehouse, checkpoint and StarRocks buckets (APP_BUCKETS). */
  readonly accessKey: string;
  readonly secretKey: string;
  /** PostgreSQL's backups alone use this identity: the backups bucket and nothing else. */
  readonly backupAccessKey: string;
  readonly backupSecretKey: string;
  /** The collector's archive writer: put objects under the archive bucket's raw/ and nothing else. */
  readonly archiveAccessKey: string;
  readonly archiveSecretKey: string;
  readonly buckets: Buckets;
}

/** Each field its own Output, so only the secret ones are secret. */
export type Connection<T> = { readonly [K in keyof T]: pulumi.Output<T[K]> };

export interface ObjectStore {
  readonly kind: "minio" | "s3";
  readonly connection: Connection<ObjectStoreEndpoint>;
  /** How the stack's pods reach it: MinIO's service, or S3 beyond the cluster. */
  readonly peer: Peer;
}

/**
 * Where the Paimon warehouse lives in its bucket: the jobs' catalog and StarRocks' read-only catalog
 * must name the same path (a catalog at the bucket root lists no lake database).
 */
export function paimonWarehouse(warehouseBucket: string): string {
  return `s3://${warehouseBucket}/paimon`;
}

export function bucketNames(prefix: string): Buckets {
  return { warehouse: `${prefix}-warehouse`, checkpoints: `${prefix}-checkpoints`, starrocks: `${prefix}-starrocks`, backups: `${prefix}-backups`, archive: `${prefix}-archive` };
}

/** The archive writer (Vector's aws_s3 sink: a HeadBucket health check, then PutObject): new objects under raw/, nothing else. */
export function archiveWriterStatements(bucketArn: string) {
  return [
    { Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [bucketArn] },
    { Effect: "Allow", Action: ["s3:PutObject"], Resource: [`${bucketArn}/raw/*`] },
  ];
}

/** The application reads the archive (a replay), never writes or deletes it: the lifecycle expires it. */
export function archiveReaderStatements(bucketArn: string) {
  return [
    { Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [bucketArn] },
    { Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${bucketArn}/*`] },
  ];
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
 * Versioning where it serves recovery: the checkpoints bucket (checkpoints and savepoints; the job
 * lifecycle keeps the last three savepoints per job and versioning keeps a deleted one recoverable
 * for savepointRetentionDays). Not the Paimon warehouse, whose snapshots are its own history and
 * whose compaction and expiry delete files all the time, nor StarRocks' shared-data files: there,
 * versioning would only keep every deleted file for a month. Their versioning is suspended (a
 * bucket once versioned cannot be unversioned) and what it kept expires after a day.
 */
export type BucketRole = keyof Buckets;
/** What the application identity may touch; the backups bucket has its own identity. */
export const APP_BUCKETS: readonly BucketRole[] = ["warehouse", "checkpoints", "starrocks"];
export const VERSIONED_BUCKETS: readonly BucketRole[] = ["checkpoints"];
export const isVersioned = (role: BucketRole) => VERSIONED_BUCKETS.includes(role);

/** One lifecycle rule, S3 API field names (MinIO's `mc ilm import` reads them too). */
export interface LifecycleRule {
  readonly ID: string;
  readonly Status: "Enabled";
  readonly Filter: { readonly Prefix?: string };
  readonly NoncurrentVersionExpiration?: { readonly NoncurrentDays: number };
  readonly Expiration?: { readonly ExpiredObjectDeleteMarker?: boolean; readonly Days?: number };
  readonly AbortIncompleteMultipartUpload?: { readonly DaysAfterInitiation: number };
}

/** The lifecycle rules of a bucket; the archive's raw events expire after `archiveDays`. */
export function lifecycleRules(role: BucketRole, retentionDays: number, archiveDays: number): LifecycleRule[] {
  return [
    {
      ID: isVersioned(role) ? "expire-noncurrent" : "purge-versions-kept-before-suspension",
      Status: "Enabled",
      Filter: {},
      NoncurrentVersionExpiration: { NoncurrentDays: isVersioned(role) ? retentionDays : 1 },
      // A delete marker with no versions left behind it is removed, so listings stay fast.
      Expiration: { ExpiredObjectDeleteMarker: true },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    },
    ...(role === "archive" ? [{ ID: "expire-raw-archive", Status: "Enabled" as const, Filter: { Prefix: "raw/" }, Expiration: { Days: archiveDays } }] : []),
  ];
}
