variable "project" {
  type        = string
  description = "Project name, the first part of the repository name (<project>-<env>-pipeline)."
}

variable "environment" {
  type        = string
  description = "Environment name, the second part of the repository name."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key that encrypts the images; null: AES256 (S3-managed keys)."
  default     = null
}

variable "keep_tagged_images" {
  type        = number
  description = "Tagged images kept; older ones expire (keep enough to roll back to the images still in use)."
  default     = 20

  validation {
    condition     = var.keep_tagged_images >= 1
    error_message = "keep_tagged_images must be at least 1: the running image is a tagged one."
  }
}

variable "untagged_expire_days" {
  type        = number
  description = "Days after which untagged images expire."
  default     = 7

  validation {
    condition     = var.untagged_expire_days >= 1
    error_message = "untagged_expire_days must be at least 1."
  }
}

variable "force_delete" {
  type        = bool
  description = "Allow terraform destroy to delete the repository with its images."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (the provider's default_tags apply as well)."
  default     = {}
}
