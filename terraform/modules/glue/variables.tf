variable "project" {
  type        = string
  description = "Project name, the first part of every job name."
}

variable "environment" {
  type        = string
  description = "Environment name, the second part of every job name."
}

variable "jobs_dir" {
  type        = string
  description = "Folder of the Glue job scripts (glue_local/jobs). Every *.py there not starting with _ becomes one job per entity."
}

variable "etl_zip_path" {
  type        = string
  description = "Path of the --extra-py-files zip built by `ecomdwh glue package` (glue_local.etl and the contract)."
}

variable "entities" {
  type        = list(string)
  description = "Entities of the bronze data contract (src/ecomdwh/contract.py); each script runs once per entity with --entity."
  default     = ["customers", "products", "orders", "order_items", "payments", "shipment_events"]
}

variable "raw_bucket_name" {
  type        = string
  description = "Bronze bucket the jobs read."
}

variable "raw_bucket_arn" {
  type        = string
  description = "ARN of the bronze bucket."
}

variable "staging_bucket_name" {
  type        = string
  description = "Silver bucket the jobs write; it also holds the scripts (glue/scripts/), the zip (glue/lib/) and Glue's temporary files."
}

variable "staging_bucket_arn" {
  type        = string
  description = "ARN of the silver bucket."
}

variable "logs_bucket_name" {
  type        = string
  description = "Logs bucket; the Spark UI event logs go to its glue/sparkui/ prefix."
}

variable "logs_bucket_arn" {
  type        = string
  description = "ARN of the logs bucket."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key for job output, bookmarks, logs and uploaded scripts."
}

variable "glue_version" {
  type        = string
  description = "Glue version: 5.0 is Spark 3.5.4 and Python 3.11, what the local runtime reproduces."
  default     = "5.0"
}

variable "worker_type" {
  type        = string
  description = "Glue worker type (G.1X = 4 vCPU, 16 GB)."
  default     = "G.1X"
}

variable "number_of_workers" {
  type        = number
  description = "Workers per job run (2 is Glue's minimum for Spark jobs)."
  default     = 2
}

variable "timeout_minutes" {
  type        = number
  description = "Job run timeout in minutes."
  default     = 30
}

variable "max_retries" {
  type        = number
  description = "Automatic retries of a failed job run. A retry is safe: nothing commits before the manifest."
  default     = 1
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the jobs' continuous-logging log group."
  default     = 30
}

variable "crawler_schedule" {
  type        = string
  description = "Cron schedule of the silver crawler (null: run on demand)."
  default     = null
}

variable "manage_catalog_encryption" {
  type        = bool
  description = "Set the account-wide Glue Data Catalog encryption. It is one setting per account and region: enable it in exactly one environment of an account."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (the provider's default_tags apply as well)."
  default     = {}
}
