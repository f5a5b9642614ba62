variable "project" {
  type        = string
  description = "Project name, the first part of every bucket name (ECOMDWH_PROJECT locally)."
}

variable "environment" {
  type        = string
  description = "Environment name, the second part of every bucket name (ECOMDWH_ENV locally)."
}

variable "raw_archive_after_days" {
  type        = number
  description = "Days after which bronze objects move to the archive storage class."
  default     = 90
}

variable "raw_archive_storage_class" {
  type        = string
  description = "Storage class bronze moves to. GLACIER_IR keeps objects readable in milliseconds, so a Glue rerun after a bookmark reset still works; GLACIER (Flexible Retrieval) is cheaper but needs a restore first."
  default     = "GLACIER_IR"

  validation {
    condition     = contains(["GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], var.raw_archive_storage_class)
    error_message = "raw_archive_storage_class must be GLACIER_IR, GLACIER or DEEP_ARCHIVE."
  }
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days a replaced or deleted object version is kept before it expires."
  default     = 30
}

variable "log_expiration_days" {
  type        = number
  description = "Days access logs, flow logs and Spark UI logs stay in the logs bucket."
  default     = 90
}

variable "glue_temporary_expiration_days" {
  type        = number
  description = "Days Glue's temporary files (staging bucket, glue/temporary/) are kept."
  default     = 7
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete non-empty buckets. Keep false outside throwaway environments."
  default     = false
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the data lake KMS key is deleted after a destroy."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (the provider's default_tags apply as well)."
  default     = {}
}
