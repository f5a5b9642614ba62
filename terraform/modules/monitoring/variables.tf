variable "project" {
  type        = string
  description = "Project name, used in resource names."
}

variable "environment" {
  type        = string
  description = "Environment name, used in resource names."
}

variable "glue_job_names" {
  type        = list(string)
  description = "Glue jobs on the dashboard and watched for failures."
}

variable "state_machine_arn" {
  type        = string
  description = "ARN of the pipeline state machine."
}

variable "redshift_workgroup_name" {
  type        = string
  description = "Redshift Serverless workgroup on the dashboard and under the RPU alarm."
}

variable "alarm_topic_arn" {
  type        = string
  description = "SNS topic alarms, Glue job failures and budget alerts go to (the orchestration module's failure topic)."
}

variable "expect_daily_success" {
  type        = bool
  description = "Alarm when no pipeline execution succeeded in a day (turn off while the schedule is disabled)."
  default     = true
}

variable "redshift_daily_rpu_hours_alarm" {
  type        = number
  description = "Alarm when the workgroup uses more RPU-hours than this in a day."
  default     = 16
}

variable "monthly_budget_usd" {
  type        = number
  description = "Monthly cost budget in USD (an estimate of the environment's run rate, docs/deployment.md)."
}

variable "budget_alert_thresholds_percent" {
  type        = list(number)
  description = "Actual-cost thresholds, in percent of the budget, that send an alert."
  default     = [50, 80, 100]
}

variable "budget_forecast_threshold_percent" {
  type        = number
  description = "Forecast-cost threshold, in percent of the budget, that sends an alert."
  default     = 100
}

variable "budget_notification_emails" {
  type        = list(string)
  description = "Addresses budget alerts are mailed to directly, besides the alarm topic."
  default     = []
}

variable "budget_cost_filters" {
  type        = map(list(string))
  description = "Cost filters of the budget, e.g. { TagKeyValue = [\"user:environment$dev\"] } once that tag is an active cost allocation tag. Empty: the whole account."
  default     = {}
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (the provider's default_tags apply as well)."
  default     = {}
}
