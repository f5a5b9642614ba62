variable "project" {
  type        = string
  description = "Project name, the first part of every bucket name (ECOMDWH_PROJECT locally)."
}

variable "environment" {
  type        = string
  description = "Environment name; the replicas are named for the environment <environment>-dr (ECOMDWH_ENV=<environment>-dr reads them)."
}

variable "source_buckets" {
  type = map(object({
    name = string
    arn  = string
  }))
  description = "The buckets to replicate, by layer (raw, staging): data_lake's replication_sources, which exist once their versioning is on."

  validation {
    condition     = length(var.source_buckets) > 0 && alltrue([for k in keys(var.source_buckets) : contains(["raw", "staging"], k)])
    error_message = "source_buckets holds raw and/or staging."
  }
}

variable "source_kms_key_arn" {
  type        = string
  description = "The lake key that encrypts the source buckets (replication decrypts with it); it also encrypts the snapshot schedule."
}

variable "replication_time_control" {
  type        = bool
  description = "S3 Replication Time Control: 99.99% of objects replicated within 15 minutes, with replication metrics and a per-GB fee."
  default     = true
}

variable "replica_storage_class" {
  type        = string
  description = "Storage class of the replicas. STANDARD_IA halves the storage price of a copy that is read only in a failover (30-day and 128 KB minimums)."
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR"], var.replica_storage_class)
    error_message = "replica_storage_class must be STANDARD, STANDARD_IA, INTELLIGENT_TIERING or GLACIER_IR (all readable at once in a failover)."
  }
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days a replaced version in a replica is kept before it expires."
  default     = 30
}

variable "glue_temporary_expiration_days" {
  type        = number
  description = "Days the replicated Glue temporary files (staging replica, glue/temporary/) are kept."
  default     = 7
}

variable "log_expiration_days" {
  type        = number
  description = "Days the DR region's logs bucket keeps the replicas' access logs."
  default     = 90
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete non-empty replica buckets. Keep false outside throwaway environments."
  default     = false
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the DR region's KMS key is deleted after a destroy."
  default     = 30
}

variable "redshift_namespace_name" {
  type        = string
  description = "The Redshift Serverless namespace whose snapshots are taken on a schedule and copied to the DR region."
}

variable "redshift_namespace_arn" {
  type        = string
  description = "ARN of that namespace (the snapshot schedule's role may snapshot only it)."
}

variable "snapshot_schedule_expression" {
  type        = string
  description = "When the warehouse snapshot is taken (EventBridge Scheduler expression, UTC); after the daily pipeline run."
  default     = "cron(0 6 * * ? *)"
}

variable "snapshot_retention_days" {
  type        = number
  description = "Days a scheduled snapshot is kept in the primary region."
  default     = 7
}

variable "snapshot_copy_retention_days" {
  type        = number
  description = "Days a copied snapshot is kept in the DR region (the snapshot copy configuration's retention; docs/deployment.md)."
  default     = 7
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (the providers' default_tags apply as well)."
  default     = {}
}
