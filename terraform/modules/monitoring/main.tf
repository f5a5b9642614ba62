data "aws_region" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  region      = data.aws_region.current.name

  glue_elapsed = [
    for job in var.glue_job_names :
    ["Glue", "glue.driver.aggregate.elapsedTime", "JobName", job, "JobRunId", "ALL", "Type", "count", { label = job }]
  ]
  glue_failed_tasks = [
    for job in var.glue_job_names :
    ["Glue", "glue.driver.aggregate.numFailedTasks", "JobName", job, "JobRunId", "ALL", "Type", "count", { label = job }]
  ]
  states = ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]
}

# --- dashboard ---------------------------------------------------------------------------------------------

resource "aws_cloudwatch_dashboard" "pipeline" {
  dashboard_name = "${local.name_prefix}-pipeline"
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title   = "Pipeline executions"
          region  = local.region
          stat    = "Sum"
          period  = 3600
          metrics = [for metric in local.states : ["AWS/States", metric, "StateMachineArn", var.state_machine_arn]]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title   = "Pipeline execution time (ms)"
          region  = local.region
          stat    = "Maximum"
          period  = 3600
          metrics = [["AWS/States", "ExecutionTime", "StateMachineArn", var.state_machine_arn]]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title   = "Glue job duration (ms)"
          region  = local.region
          stat    = "Maximum"
          period  = 3600
          metrics = local.glue_elapsed
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title  = "Glue failures: failed tasks, and failed job runs"
          region = local.region
          stat   = "Sum"
          period = 3600
          metrics = concat(local.glue_failed_tasks, [
            ["AWS/Events", "TriggeredRules", "RuleName", aws_cloudwatch_event_rule.glue_failed.name, { label = "failed job runs" }],
          ])
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title   = "Redshift Serverless RPUs"
          region  = local.region
          stat    = "Maximum"
          period  = 300
          metrics = [["AWS/Redshift-Serverless", "ComputeCapacity", "Workgroup", var.redshift_workgroup_name]]
        }
      },
      {
        type = "metric", x = 12, y = 12, width = 12, height = 6
        properties = {
          title  = "Redshift Serverless RPU-hours per hour"
          region = local.region
          period = 3600
          metrics = [
            [{ expression = "rpu_seconds / 3600", label = "RPU-hours", id = "rpu_hours" }],
            ["AWS/Redshift-Serverless", "ComputeSeconds", "Workgroup", var.redshift_workgroup_name, { id = "rpu_seconds", stat = "Sum", visible = false }],
          ]
        }
      },
    ]
  })
}

# --- alarms and failure events, all to the failure topic ---------------------------------------------------

# Failures caught in the graph already notify; a run that times out as a whole does not.
resource "aws_cloudwatch_metric_alarm" "executions_timed_out" {
  alarm_name          = "${local.name_prefix}-pipeline-timed-out"
  alarm_description   = "A pipeline execution hit the state machine's timeout."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsTimedOut"
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "no_success_today" {
  count = var.expect_daily_success ? 1 : 0

  alarm_name          = "${local.name_prefix}-pipeline-no-success-in-a-day"
  alarm_description   = "No pipeline execution succeeded in the last 24 hours: the schedule did not run, or every run failed."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsSucceeded"
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = 86400
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  actions_enabled     = true
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "redshift_rpu_hours" {
  alarm_name          = "${local.name_prefix}-redshift-rpu-hours"
  alarm_description   = "The Redshift Serverless workgroup used more than ${var.redshift_daily_rpu_hours_alarm} RPU-hours in a day."
  evaluation_periods  = 1
  threshold           = var.redshift_daily_rpu_hours_alarm
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [var.alarm_topic_arn]

  metric_query {
    id          = "rpu_hours"
    expression  = "rpu_seconds / 3600"
    label       = "RPU-hours per day"
    return_data = true
  }

  metric_query {
    id = "rpu_seconds"
    metric {
      namespace   = "AWS/Redshift-Serverless"
      metric_name = "ComputeSeconds"
      dimensions  = { Workgroup = var.redshift_workgroup_name }
      stat        = "Sum"
      period      = 86400
    }
  }

  tags = var.tags
}

# Each failed Glue job run is one mail, with the job and its error, even when the state machine
# is not the one that started it.
resource "aws_cloudwatch_event_rule" "glue_failed" {
  name        = "${local.name_prefix}-glue-job-failed"
  description = "A ${local.name_prefix} Glue job run failed, timed out or errored"
  event_pattern = jsonencode({
    source      = ["aws.glue"]
    detail-type = ["Glue Job State Change"]
    detail = {
      jobName = var.glue_job_names
      state   = ["FAILED", "TIMEOUT", "ERROR"]
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "glue_failed" {
  rule = aws_cloudwatch_event_rule.glue_failed.name
  arn  = var.alarm_topic_arn

  input_transformer {
    input_paths = {
      job     = "$.detail.jobName"
      state   = "$.detail.state"
      run     = "$.detail.jobRunId"
      message = "$.detail.message"
    }
    input_template = "\"Glue job <job> run <run> ended <state>: <message>\""
  }
}

# --- budget ----------------------------------------------------------------------------------------------------

resource "aws_budgets_budget" "monthly" {
  name         = "${local.name_prefix}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  dynamic "cost_filter" {
    for_each = var.budget_cost_filters
    content {
      name   = cost_filter.key
      values = cost_filter.value
    }
  }

  dynamic "notification" {
    for_each = toset(var.budget_alert_thresholds_percent)
    content {
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value
      threshold_type             = "PERCENTAGE"
      notification_type          = "ACTUAL"
      subscriber_sns_topic_arns  = [var.alarm_topic_arn]
      subscriber_email_addresses = var.budget_notification_emails
    }
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = var.budget_forecast_threshold_percent
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_sns_topic_arns  = [var.alarm_topic_arn]
    subscriber_email_addresses = var.budget_notification_emails
  }

  tags = var.tags
}
