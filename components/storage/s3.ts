import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { APP_BUCKETS, archiveReaderStatements, archiveWriterStatements, bucketAccessStatements, bucketNames, BucketRole, Connection, isVersioned, lifecycleRules, ObjectStore, ObjectStoreEndpoint } from "./types";

export interface S3StoreArgs {
  /** The stack's name: tags every bucket and names the IAM users. */
  readonly stack: string;
  /** The buckets' region. */
  readonly region: string;
  /** Buckets are `<prefix>-warehouse`, `-checkpoints`, `-starrocks`, `-backups`. */
  readonly bucketPrefix: string;
  /** Days a deleted checkpoint or savepoint stays recoverable as a noncurrent version. */
  readonly savepointRetentionDays: number;
  /** Days the collector's raw archive keeps an event (rtdw:collector.archiveDays). */
  readonly archiveDays: number;
  /** protect + retainOnDelete on the buckets (rtdw:protectStateful). */
  readonly protect: boolean;
}

/**
 * AWS S3 buckets (encrypted, private; the checkpoints bucket versioned, see types.ts) and an IAM
 * identity that may touch only them.
 * The static access key is what Paimon, Flink and StarRocks accept uniformly; clusters with IRSA can
 * swap it for a role later without changing consumers.
 */
export class S3Store extends pulumi.ComponentResource implements ObjectStore {
  readonly connection: Connection<ObjectStoreEndpoint>;
  readonly peer = { outside: "Amazon S3 (HTTPS)", ports: [443] } as const;
  readonly kind = "s3" as const;

  constructor(name: string, args: S3StoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:storage:S3Store", name, {}, opts);
    const region = args.region;
    const provider = new aws.Provider(`${name}-aws`, { region: region as aws.Region }, { parent: this });
    const keep = { protect: args.protect, retainOnDelete: args.protect };
    const names = bucketNames(args.bucketPrefix);

    const buckets = (Object.entries(names) as [BucketRole, string][]).map(([role, bucketName]) => {
      const o = { parent: this, provider };
      const bucket = new aws.s3.Bucket(`${name}-${role}`, { bucket: bucketName, forceDestroy: false, tags: { "rtdw:role": role, "rtdw:stack": args.stack } }, { ...o, ...keep });
      new aws.s3.BucketPublicAccessBlock(`${name}-${role}-private`, {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      }, o);
      new aws.s3.BucketVersioning(`${name}-${role}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: isVersioned(role) ? "Enabled" : "Suspended" } }, o);
      new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-${role}-sse`, {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
      }, o);
      new aws.s3.BucketLifecycleConfiguration(`${name}-${role}-lifecycle`, {
        bucket: bucket.id,
        rules: lifecycleRules(role, args.savepointRetentionDays, args.archiveDays).map((r) => ({
          id: r.ID,
          status: r.Status,
          filter: r.Filter.Prefix === undefined ? {} : { prefix: r.Filter.Prefix },
          ...(r.NoncurrentVersionExpiration ? { noncurrentVersionExpiration: { noncurrentDays: r.NoncurrentVersionExpiration.NoncurrentDays } } : {}),
          ...(r.Expiration ? { expiration: { expiredObjectDeleteMarker: r.Expiration.ExpiredObjectDeleteMarker, days: r.Expiration.Days } } : {}),
          ...(r.AbortIncompleteMultipartUpload ? { abortIncompleteMultipartUpload: { daysAfterInitiation: r.AbortIncompleteMultipartUpload.DaysAfterInitiation } } : {}),
        })),
      }, o);
      return bucket;
    });

    const roles = Object.keys(names) as BucketRole[];
    const arnsOf = (which: readonly BucketRole[]) => which.map((r) => buckets[roles.indexOf(r)].arn);
    // One IAM user per client: the application (Flink, Paimon, StarRocks; it reads the archive for a replay),
    // PostgreSQL's backups, and the collector's archive writer (new objects under raw/ only).
    const archiveArn = buckets[roles.indexOf("archive")].arn;
    const identity = (suffix: string, which: readonly BucketRole[], archive?: "read" | "write") => {
      const user = new aws.iam.User(`${name}-${suffix}`, { name: `rtdw-${args.stack}-${suffix}`, tags: { "rtdw:stack": args.stack } }, { parent: this, provider });
      new aws.iam.UserPolicy(`${name}-${suffix}-policy`, {
        user: user.name,
        policy: pulumi.all([pulumi.all(arnsOf(which)), archiveArn]).apply(([arns, archiveBucket]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              ...(arns.length ? bucketAccessStatements(arns) : []),
              ...(archive === "read" ? archiveReaderStatements(archiveBucket) : archive === "write" ? archiveWriterStatements(archiveBucket) : []),
              { Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: "*", Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } } },
            ],
          }),
        ),
      }, { parent: this, provider });
      return new aws.iam.AccessKey(`${name}-${suffix}-key`, { user: user.name }, { parent: this, provider, additionalSecretOutputs: ["secret"] });
    };
    const key = identity("app", APP_BUCKETS, "read");
    const backupKey = identity("backup", ["backups"]);
    const archiveKey = identity("archive", [], "write");

    this.connection = {
      kind: pulumi.output("s3" as const),
      endpoint: pulumi.output(`https://s3.${region}.amazonaws.com`),
      region: pulumi.output(region),
      pathStyle: pulumi.output(false),
      accessKey: key.id,
      secretKey: pulumi.secret(key.secret),
      backupAccessKey: backupKey.id,
      backupSecretKey: pulumi.secret(backupKey.secret),
      archiveAccessKey: archiveKey.id,
      archiveSecretKey: pulumi.secret(archiveKey.secret),
      buckets: pulumi.all(buckets.map((b) => b.bucket)).apply(([warehouse, checkpoints, starrocks, backups, archive]) => ({ warehouse, checkpoints, starrocks, backups, archive })),
    };
    this.registerOutputs({ endpoint: this.connection.endpoint, buckets: this.connection.buckets });
  }
}
