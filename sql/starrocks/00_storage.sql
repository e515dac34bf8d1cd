-- Shared-data storage on the object store, and the Paimon catalog over the warehouse.
-- Values come from the bootstrap task's environment (${NAME}), credentials included; this file holds none.
CREATE STORAGE VOLUME IF NOT EXISTS rtdw_volume
TYPE = S3
LOCATIONS = ("s3://${STARROCKS_BUCKET}/")
PROPERTIES (
  "enabled" = "true",
  "aws.s3.region" = "${S3_REGION}",
  "aws.s3.endpoint" = "${S3_ENDPOINT}",
  "aws.s3.enable_path_style_access" = "${S3_PATH_STYLE}",
  "aws.s3.enable_ssl" = "${S3_SSL}",
  "aws.s3.use_aws_sdk_default_behavior" = "false",
  "aws.s3.use_instance_profile" = "false",
  "aws.s3.access_key" = "${S3_ACCESS_KEY}",
  "aws.s3.secret_key" = "${S3_SECRET_KEY}"
);
ALTER STORAGE VOLUME rtdw_volume SET ("aws.s3.access_key" = "${S3_ACCESS_KEY}", "aws.s3.secret_key" = "${S3_SECRET_KEY}");
SET rtdw_volume AS DEFAULT STORAGE VOLUME;
