-- The Paimon catalog over the lake, read-only. Values come from the bootstrap task's environment.
-- StarRocks 3.3 documents only filesystem and hive Paimon catalogs; a jdbc type works only where the
-- FE bundles Paimon >= 0.8 (the 3.3 branch point bundles 0.7.0: "Could not find any factory for
-- identifier 'jdbc'"). Paimon's JDBC catalog keeps only names in PostgreSQL; schemas, snapshots and
-- data are files under <warehouse>/<db>.db/<table>, so a filesystem catalog on the jobs' warehouse
-- path (PAIMON_WAREHOUSE, the same value the jobs' catalog is given) reads the same tables.
-- Plain CREATE: the bootstrap drops the catalog first when SHOW CATALOGS lists it (IF NOT EXISTS is
-- a syntax error on early 3.3 builds), so changed properties (a rotated key) take effect.
CREATE EXTERNAL CATALOG paimon
PROPERTIES (
  "type" = "paimon",
  "paimon.catalog.type" = "filesystem",
  "paimon.catalog.warehouse" = "${PAIMON_WAREHOUSE}",
  "aws.s3.region" = "${S3_REGION}",
  "aws.s3.endpoint" = "${S3_ENDPOINT}",
  "aws.s3.enable_path_style_access" = "${S3_PATH_STYLE}",
  "aws.s3.enable_ssl" = "${S3_SSL}",
  "aws.s3.use_instance_profile" = "false",
  "aws.s3.access_key" = "${S3_ACCESS_KEY}",
  "aws.s3.secret_key" = "${S3_SECRET_KEY}"
);
