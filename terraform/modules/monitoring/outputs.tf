output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.pipeline.dashboard_name
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms."
  value = concat(
    [aws_cloudwatch_metric_alarm.executions_timed_out.alarm_name, aws_cloudwatch_metric_alarm.redshift_rpu_hours.alarm_name],
    aws_cloudwatch_metric_alarm.no_success_today[*].alarm_name,
  )
}

output "glue_failure_rule_name" {
  description = "EventBridge rule that mails failed Glue job runs."
  value       = aws_cloudwatch_event_rule.glue_failed.name
}

output "budget_name" {
  description = "Name of the monthly cost budget."
  value       = aws_budgets_budget.monthly.name
}
