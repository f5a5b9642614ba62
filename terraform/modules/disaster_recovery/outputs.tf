output "replica_region" {
  description = "The DR region."
  value       = local.replica_region
}

output "replica_environment" {
  description = "The environment name whose bucket names are the replicas' (ECOMDWH_ENV in a failover)."
  value       = local.replica_environment
}

output "replica_bucket_names" {
  description = "Replica buckets by layer: <project>-<env>-dr-raw|staging."
  value       = { for layer, bucket in aws_s3_bucket.replica : layer => bucket.bucket }
}

output "replica_bucket_arns" {
  description = "ARNs of the replica buckets by layer."
  value       = { for layer, bucket in aws_s3_bucket.replica : layer => bucket.arn }
}

output "replica_kms_key_arn" {
  description = "The DR region's key: encrypts the replicas and the copied warehouse snapshots."
  value       = aws_kms_key.replica.arn
}

output "replication_role_arn" {
  description = "The role S3 replicates with, both ways."
  value       = aws_iam_role.replication.arn
}

output "replication_rules" {
  description = "Per layer: the source bucket, where its rule replicates to, with which key, whether delete markers follow and the replication time in minutes (0: no RTC)."
  value = {
    for layer, config in aws_s3_bucket_replication_configuration.to_replica : layer => {
      source               = config.bucket
      destination          = one(one(config.rule).destination).bucket
      replica_kms_key_id   = one(one(one(config.rule).destination).encryption_configuration).replica_kms_key_id
      delete_markers       = one(one(config.rule).delete_marker_replication).status
      replication_minutes  = try(one(one(one(config.rule).destination).replication_time).time[0].minutes, 0)
      sse_kms_objects      = one(one(config.rule).source_selection_criteria).sse_kms_encrypted_objects[0].status
      failback_destination = one(one(aws_s3_bucket_replication_configuration.to_primary[layer].rule).destination).bucket
    }
  }
}

output "snapshot_schedule_name" {
  description = "The EventBridge schedule that snapshots the warehouse."
  value       = aws_scheduler_schedule.snapshot.name
}

output "snapshot_copy_command" {
  description = "The one-time AWS CLI command that copies the namespace's snapshots to the DR region (no provider resource exists for it)."
  value = join(" ", [
    "aws redshift-serverless create-snapshot-copy-configuration",
    "--region ${local.region}",
    "--namespace-name ${var.redshift_namespace_name}",
    "--destination-region ${local.replica_region}",
    "--destination-kms-key-id ${aws_kms_key.replica.arn}",
    "--snapshot-retention-period ${var.snapshot_copy_retention_days}",
  ])
}
