variable "project" {
  type        = string
  description = "Project name, used in resource names."
}

variable "environment" {
  type        = string
  description = "Environment name, used in resource names."
}

variable "database_name" {
  type        = string
  description = "Database created in the namespace (ECOMDWH_REDSHIFT_DBNAME)."
  default     = "ecomdwh"
}

variable "admin_username" {
  type        = string
  description = "Admin user name; its password is generated and kept in Secrets Manager by Redshift."
  default     = "ecomdwh_admin"
}

variable "base_capacity" {
  type        = number
  description = "Base Redshift Processing Units of the workgroup (8 to 1024, in steps of 8)."
  default     = 8

  validation {
    condition     = var.base_capacity >= 8 && var.base_capacity % 8 == 0
    error_message = "base_capacity must be a multiple of 8 RPU, at least 8."
  }
}

variable "max_capacity" {
  type        = number
  description = "Upper bound of RPUs the workgroup may scale to (null: Redshift's default)."
  default     = null
}

variable "usage_limits" {
  type = list(object({
    amount        = number
    period        = string
    breach_action = string
  }))
  description = "Compute usage limits in RPU-hours per period (daily, weekly, monthly); breach_action is log, emit-metric or deactivate."
  default = [
    { amount = 24, period = "daily", breach_action = "emit-metric" },
    { amount = 48, period = "daily", breach_action = "deactivate" },
  ]
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets of the workgroup, in at least three availability zones."
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the workgroup (reachable from inside the VPC only)."
}

variable "staging_bucket_arn" {
  type        = string
  description = "ARN of the silver bucket COPY reads."
}

variable "lake_kms_key_arn" {
  type        = string
  description = "KMS key of the silver bucket, which COPY needs to decrypt."
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the warehouse KMS key is deleted after a destroy."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (the provider's default_tags apply as well)."
  default     = {}
}
