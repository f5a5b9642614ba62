variable "project" {
  type        = string
  description = "Project name, the first part of every stream name (<project>-<env>-<source>-<entity>)."
}

variable "environment" {
  type        = string
  description = "Environment name, the second part of every stream name."
}

variable "event_sources" {
  type        = list(string)
  description = "Bronze entities fed by a stream, as <source>/<entity> of the data contract (src/ecomdwh/contract.py): one delivery stream each."
  default     = ["logistics/shipment_events", "payments/payments"]

  validation {
    condition     = alltrue([for s in var.event_sources : can(regex("^[a-z_]+/[a-z_]+$", s))])
    error_message = "event_sources are <source>/<entity> paths of the bronze contract, such as logistics/shipment_events."
  }
}

variable "raw_bucket_arn" {
  type        = string
  description = "ARN of the bronze bucket the streams deliver to."
}

variable "kms_key_arn" {
  type        = string
  description = "The lake's customer-managed key: encrypts the streams at rest, the delivered objects and the log group."
}

variable "error_prefix" {
  type        = string
  description = "Top-level folder of the raw bucket for records Firehose could not deliver; outside every <source>/<entity>/ folder, so the Glue jobs never read it."
  default     = "firehose_errors"

  validation {
    condition     = can(regex("^[a-z0-9_-]+$", var.error_prefix))
    error_message = "error_prefix is one folder name (lower case, digits, _ or -)."
  }
}

variable "buffering_size_mb" {
  type        = number
  description = "Firehose writes an object when this many MiB (uncompressed) are buffered, or at buffering_interval_seconds."
  default     = 64

  validation {
    condition     = var.buffering_size_mb >= 1 && var.buffering_size_mb <= 128
    error_message = "buffering_size_mb must be 1-128."
  }
}

variable "buffering_interval_seconds" {
  type        = number
  description = "Firehose writes an object at the latest this many seconds after its first record arrived."
  default     = 300

  validation {
    condition     = var.buffering_interval_seconds >= 0 && var.buffering_interval_seconds <= 900
    error_message = "buffering_interval_seconds must be 0-900."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days the delivery error log group keeps its events."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (the provider's default_tags apply as well)."
  default     = {}
}
