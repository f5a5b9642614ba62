output "state_machine_arn" {
  description = "ARN of the pipeline state machine."
  value       = aws_sfn_state_machine.pipeline.arn
}

output "state_machine_name" {
  description = "Name of the pipeline state machine."
  value       = aws_sfn_state_machine.pipeline.name
}

output "state_machine_definition" {
  description = "The rendered ASL, with one glue branch per job."
  value       = aws_sfn_state_machine.pipeline.definition
}

output "failure_topic_arn" {
  description = "SNS topic of pipeline failures; the monitoring module sends alarms and budget alerts there too."
  value       = aws_sns_topic.failures.arn
}

output "notification_topic_arn" {
  description = "SNS topic of success notices."
  value       = aws_sns_topic.notifications.arn
}

output "ecs_cluster_name" {
  description = "ECS cluster the pipeline containers run in."
  value       = aws_ecs_cluster.this.name
}

output "task_definition_family" {
  description = "Task definition family of the pipeline containers."
  value       = aws_ecs_task_definition.pipeline.family
}

output "schedule_name" {
  description = "EventBridge Scheduler schedule that starts the pipeline."
  value       = aws_scheduler_schedule.pipeline.name
}

output "container_image" {
  description = "The image the pipeline task definition runs."
  value       = var.container_image
}

output "reports_uri" {
  description = "Where the containers copy finished report folders (ECOMDWH_REPORTS_URI)."
  value       = local.reports_uri
}
