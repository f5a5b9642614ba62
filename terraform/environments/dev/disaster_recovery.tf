# The DR region: its own provider, and the module that replicates the lake there (dr_enabled).

provider "aws" {
  alias  = "dr"
  region = var.dr_region

  default_tags {
    tags = {
      project     = var.project
      environment = var.environment
      owner       = var.owner
      cost_center = var.cost_center
      managed_by  = "terraform"
    }
  }
}

module "disaster_recovery" {
  source = "../../modules/disaster_recovery"
  count  = var.dr_enabled ? 1 : 0

  providers = {
    aws         = aws
    aws.replica = aws.dr
  }

  project                      = var.project
  environment                  = var.environment
  source_buckets               = module.data_lake.replication_sources
  source_kms_key_arn           = module.data_lake.kms_key_arn
  replication_time_control     = var.dr_replication_time_control
  replica_storage_class        = var.dr_replica_storage_class
  force_destroy                = var.force_destroy
  redshift_namespace_name      = module.redshift_serverless.namespace_name
  redshift_namespace_arn       = module.redshift_serverless.namespace_arn
  snapshot_retention_days      = var.dr_snapshot_retention_days
  snapshot_copy_retention_days = var.dr_snapshot_retention_days
}

output "dr_replica_buckets" {
  description = "Replica buckets in the DR region by layer (empty when dr_enabled is false)."
  value       = one(module.disaster_recovery[*].replica_bucket_names)
}

output "dr_replica_kms_key_arn" {
  description = "The DR region's key (null when dr_enabled is false)."
  value       = one(module.disaster_recovery[*].replica_kms_key_arn)
}

output "dr_snapshot_copy_command" {
  description = "Run once after the first apply: copies the warehouse's snapshots to the DR region (docs/deployment.md)."
  value       = one(module.disaster_recovery[*].snapshot_copy_command)
}
