output "raw_bucket_name" {
  description = "Bronze bucket, <project>-<env>-raw."
  value       = aws_s3_bucket.data["raw"].bucket
}

output "raw_bucket_arn" {
  description = "ARN of the bronze bucket."
  value       = aws_s3_bucket.data["raw"].arn
}

output "staging_bucket_name" {
  description = "Silver bucket, <project>-<env>-staging (silver/, quarantine/, manifests/, glue/)."
  value       = aws_s3_bucket.data["staging"].bucket
}

output "staging_bucket_arn" {
  description = "ARN of the silver bucket."
  value       = aws_s3_bucket.data["staging"].arn
}

output "logs_bucket_name" {
  description = "Logs bucket, <project>-<env>-logs."
  value       = aws_s3_bucket.logs.bucket
}

output "logs_bucket_arn" {
  description = "ARN of the logs bucket."
  value       = aws_s3_bucket.logs.arn
}

output "flow_log_destination_arn" {
  description = "Where VPC flow logs go (the logs bucket's vpc-flow-logs/ prefix)."
  value       = "${aws_s3_bucket.logs.arn}/vpc-flow-logs/"
}

output "kms_key_arn" {
  description = "ARN of the customer-managed key for the lake, log groups, Glue, Step Functions and SNS."
  value       = aws_kms_key.lake.arn
}

output "kms_key_alias" {
  description = "Alias of the lake key."
  value       = aws_kms_alias.lake.name
}

output "replication_sources" {
  description = "raw and staging as S3 replication sources (name, arn), by layer; available once their versioning is on, which replication needs first."
  value = {
    for layer, bucket in aws_s3_bucket.data : layer => { name = bucket.bucket, arn = bucket.arn }
  }
  depends_on = [aws_s3_bucket_versioning.data]
}
