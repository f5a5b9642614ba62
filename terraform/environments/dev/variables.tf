variable "region" {
  type        = string
  description = "AWS region of the environment."
}

variable "project" {
  type        = string
  description = "Project name: the first part of every resource and bucket name (ECOMDWH_PROJECT)."
  default     = "ecomdwh"
}

variable "environment" {
  type        = string
  description = "Environment name: the second part of every resource and bucket name (ECOMDWH_ENV)."
}

variable "owner" {
  type        = string
  description = "Team or person answerable for the environment (default tag owner)."
}

variable "cost_center" {
  type        = string
  description = "Cost center the environment is charged to (default tag cost_center)."
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of the environment's VPC."
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones of the private subnets (three or more)."
}

variable "interface_endpoint_az_count" {
  type        = number
  description = "Availability zones holding interface endpoint ENIs (each costs per hour)."
}

variable "raw_archive_after_days" {
  type        = number
  description = "Days after which bronze moves to Glacier Instant Retrieval."
}

variable "log_expiration_days" {
  type        = number
  description = "Days the logs bucket keeps access logs, flow logs and Spark UI logs."
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the CloudWatch log groups (Glue, containers, state machine)."
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to empty and delete the buckets."
  default     = false
}

variable "glue_worker_type" {
  type        = string
  description = "Glue worker type of the bronze-to-silver jobs."
}

variable "glue_number_of_workers" {
  type        = number
  description = "Glue workers per job run."
}

variable "manage_glue_catalog_encryption" {
  type        = bool
  description = "Whether this environment owns the account-wide Glue Data Catalog encryption setting (one environment per account)."
}

variable "redshift_base_capacity" {
  type        = number
  description = "Base RPUs of the Redshift Serverless workgroup."
}

variable "redshift_max_capacity" {
  type        = number
  description = "Maximum RPUs the workgroup may scale to."
}

variable "redshift_usage_limits" {
  type = list(object({
    amount        = number
    period        = string
    breach_action = string
  }))
  description = "Redshift Serverless compute usage limits, RPU-hours per period."
}

variable "redshift_daily_rpu_hours_alarm" {
  type        = number
  description = "RPU-hours in a day above which an alarm fires."
}

variable "image_tag" {
  type        = string
  description = "Tag of the pipeline image in this environment's ECR repository (the build's git commit, `make image`); tags are immutable."

  validation {
    condition     = !strcontains(var.image_tag, "REPLACE_ME") && var.image_tag != "latest" && can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "Set image_tag in terraform.tfvars to the tag you pushed (docs/deployment.md, \"The pipeline image\"); not latest: tags are immutable."
  }
}

variable "image_keep_tagged" {
  type        = number
  description = "Tagged pipeline images the ECR repository keeps (rollback targets); older ones expire."
}

variable "task_cpu" {
  type        = number
  description = "Fargate CPU units of a pipeline container."
}

variable "task_memory" {
  type        = number
  description = "Fargate memory of a pipeline container, MiB."
}

variable "schedule_expression" {
  type        = string
  description = "When the pipeline runs (EventBridge Scheduler expression, UTC)."
}

variable "schedule_enabled" {
  type        = bool
  description = "Whether the schedule starts runs."
}

variable "failure_notification_emails" {
  type        = list(string)
  description = "Addresses that get pipeline failures, alarms and budget alerts."
  default     = []
}

variable "success_notification_emails" {
  type        = list(string)
  description = "Addresses that get a notice of every successful run."
  default     = []
}

variable "monthly_budget_usd" {
  type        = number
  description = "Monthly cost budget, USD (the environment's estimated run rate plus headroom)."
}

variable "budget_alert_thresholds_percent" {
  type        = list(number)
  description = "Actual-cost alert thresholds, percent of the budget."
}

variable "budget_notification_emails" {
  type        = list(string)
  description = "Addresses budget alerts are mailed to directly."
  default     = []
}

variable "budget_cost_filters" {
  type        = map(list(string))
  description = "Cost filters of the budget (empty: the whole account)."
  default     = {}
}

variable "dr_enabled" {
  type        = bool
  description = "Whether the lake is replicated to dr_region and the warehouse snapshotted for it (modules/disaster_recovery)."
}

variable "dr_region" {
  type        = string
  description = "The disaster recovery region (the aws.dr provider); must differ from region."

  validation {
    condition     = var.dr_region != var.region
    error_message = "dr_region must be another region than region."
  }
}

variable "dr_replication_time_control" {
  type        = bool
  description = "S3 Replication Time Control on the lake's replication (15-minute objective, per-GB fee)."
}

variable "dr_replica_storage_class" {
  type        = string
  description = "Storage class of the replicas in the DR region."
}

variable "dr_snapshot_retention_days" {
  type        = number
  description = "Days the daily warehouse snapshot is kept, in the primary and the DR region."
}
