variable "project" {
  type        = string
  description = "Project name, used in resource names and passed to the containers as ECOMDWH_PROJECT."
}

variable "environment" {
  type        = string
  description = "Environment name, used in resource names and passed to the containers as ECOMDWH_ENV."
}

variable "raw_bucket_name" {
  type        = string
  description = "Bronze bucket the land step checks."
}

variable "raw_bucket_arn" {
  type        = string
  description = "ARN of the bronze bucket."
}

variable "staging_bucket_arn" {
  type        = string
  description = "ARN of the silver bucket the containers read (manifests, silver)."
}

variable "logs_bucket_name" {
  type        = string
  description = "Logs bucket: the containers copy each finished report folder to its reports/ prefix (ECOMDWH_REPORTS_URI)."
}

variable "logs_bucket_arn" {
  type        = string
  description = "ARN of the logs bucket."
}

variable "landing_check_prefix" {
  type        = string
  description = "Bronze prefix the land step looks under for ingest_date=<day>/ (the orders entity: every day has orders)."
  default     = "shop/orders/"
}

variable "kms_key_arn" {
  type        = string
  description = "Lake KMS key: SNS topics, log groups, the schedule, and the data the containers read."
}

variable "glue_job_names" {
  type        = list(string)
  description = "Glue jobs the glue step runs in parallel, one branch each."

  validation {
    condition     = length(var.glue_job_names) > 0
    error_message = "A Parallel state needs at least one branch: glue_job_names is empty."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets the pipeline containers run in."
}

variable "task_security_group_id" {
  type        = string
  description = "Security group of the pipeline containers."
}

variable "container_image" {
  type        = string
  description = "The pipeline image (the repository's Dockerfile), <ECR repository URL>:<immutable tag> or pinned by digest."
}

variable "container_repository_arn" {
  type        = string
  description = "ARN of the ECR repository that holds container_image: the only repository the tasks may pull from."
}

variable "task_cpu" {
  type        = number
  description = "Fargate CPU units of a pipeline container (1024 = 1 vCPU)."
  default     = 1024
}

variable "task_memory" {
  type        = number
  description = "Fargate memory of a pipeline container, MiB."
  default     = 4096
}

variable "redshift_host" {
  type        = string
  description = "Redshift Serverless workgroup endpoint (ECOMDWH_REDSHIFT_HOST)."
}

variable "redshift_port" {
  type        = number
  description = "Redshift Serverless workgroup port (ECOMDWH_REDSHIFT_PORT)."
  default     = 5439
}

variable "redshift_database" {
  type        = string
  description = "Redshift database (ECOMDWH_REDSHIFT_DBNAME)."
}

variable "redshift_admin_secret_arn" {
  type        = string
  description = "Secrets Manager secret Redshift keeps the admin credentials in; the containers get user and password from it at start."
}

variable "redshift_kms_key_arn" {
  type        = string
  description = "KMS key of the Redshift admin secret."
}

variable "schedule_expression" {
  type        = string
  description = "When the pipeline runs (EventBridge Scheduler expression)."
  default     = "cron(0 3 * * ? *)"
}

variable "schedule_timezone" {
  type        = string
  description = "Time zone of the schedule expression."
  default     = "UTC"
}

variable "schedule_enabled" {
  type        = bool
  description = "Whether the schedule starts runs (false: start executions by hand)."
  default     = true
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the state machine's and the containers' log groups."
  default     = 30
}

variable "failure_notification_emails" {
  type        = list(string)
  description = "Addresses subscribed to the failure topic (pipeline failures, alarms, budget alerts). Each must confirm by mail."
  default     = []
}

variable "success_notification_emails" {
  type        = list(string)
  description = "Addresses subscribed to the success notices."
  default     = []
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (the provider's default_tags apply as well)."
  default     = {}
}
