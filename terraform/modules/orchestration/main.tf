data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  name_prefix    = "${var.project}-${var.environment}"
  account_id     = data.aws_caller_identity.current.account_id
  region         = data.aws_region.current.name
  partition      = data.aws_partition.current.partition
  container_name = "ecomdwh"
  # Each finished report folder is copied here from /scratch, which ends with the task.
  reports_uri = "s3://${var.logs_bucket_name}/reports"

  # The ASL is one template (pipeline.asl.json). Its glue state holds one branch written for a
  # placeholder job; that branch is repeated once per Glue job, so a new script's jobs join the run.
  glue_job_placeholder = "GLUE_JOB_NAME_PLACEHOLDER"
  asl = jsondecode(templatefile("${path.module}/pipeline.asl.json", {
    name_prefix            = local.name_prefix
    raw_bucket             = var.raw_bucket_name
    landing_check_prefix   = var.landing_check_prefix
    glue_job_name          = local.glue_job_placeholder
    ecs_cluster_arn        = aws_ecs_cluster.this.arn
    task_definition_arn    = aws_ecs_task_definition.pipeline.arn_without_revision
    container_name         = local.container_name
    subnet_ids             = join(",", var.subnet_ids)
    security_group_id      = var.task_security_group_id
    notification_topic_arn = aws_sns_topic.notifications.arn
    failure_topic_arn      = aws_sns_topic.failures.arn
  }))
  glue_branch = jsonencode(local.asl.States.glue.Branches[0])
  definition = merge(local.asl, {
    States = merge(local.asl.States, {
      glue = merge(local.asl.States.glue, {
        Branches = [for job in var.glue_job_names : jsondecode(replace(local.glue_branch, local.glue_job_placeholder, job))]
      })
    })
  })

  glue_job_arns = [for job in var.glue_job_names : "arn:${local.partition}:glue:${local.region}:${local.account_id}:job/${job}"]
}

# --- SNS: success notices and failures (the monitoring module's alarms and budgets use the latter) ----

resource "aws_sns_topic" "notifications" {
  name              = "${local.name_prefix}-pipeline-notifications"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic" "failures" {
  name              = "${local.name_prefix}-pipeline-failures"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "failures_topic" {
  statement {
    sid     = "AwsServicesOfThisAccountPublish"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"]
    }
    resources = [aws_sns_topic.failures.arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid     = "AccountManagesTheTopic"
    actions = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:ListSubscriptionsByTopic"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    resources = [aws_sns_topic.failures.arn]
  }
}

resource "aws_sns_topic_policy" "failures" {
  arn    = aws_sns_topic.failures.arn
  policy = data.aws_iam_policy_document.failures_topic.json
}

resource "aws_sns_topic_subscription" "failures" {
  for_each = toset(var.failure_notification_emails)

  topic_arn = aws_sns_topic.failures.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_sns_topic_subscription" "notifications" {
  for_each = toset(var.success_notification_emails)

  topic_arn = aws_sns_topic.notifications.arn
  protocol  = "email"
  endpoint  = each.value
}

# --- ECS: one task definition, the step picks the command --------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = "${local.name_prefix}-pipeline"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "tasks" {
  #checkov:skip=CKV_AWS_338:Retention is per environment (log_retention_days): prod keeps 365 days, dev less, its runs being reproducible.
  name              = "/ecs/${local.name_prefix}-pipeline"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# The execution role starts the container: pull the image, write its logs, read the admin secret.
resource "aws_iam_role" "task_execution" {
  name               = "${local.name_prefix}-pipeline-task-execution"
  description        = "ECS agent for the pipeline containers"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task_execution" {
  # GetAuthorizationToken has no resource-level permissions.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [var.container_repository_arn]
  }

  statement {
    sid       = "ContainerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.tasks.arn}:*"]
  }

  statement {
    sid       = "RedshiftAdminSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.redshift_admin_secret_arn]
  }

  statement {
    sid       = "DecryptAdminSecret"
    actions   = ["kms:Decrypt"]
    resources = [var.redshift_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "task_execution" {
  name   = "start-pipeline-containers"
  role   = aws_iam_role.task_execution.id
  policy = data.aws_iam_policy_document.task_execution.json
}

# The task role is what ecomdwh itself may do: read the lake, write reports. Redshift is reached
# with the admin credentials, over TLS, from inside the VPC.
resource "aws_iam_role" "task" {
  name               = "${local.name_prefix}-pipeline-task"
  description        = "ecomdwh in the pipeline containers: read the lake, write reports to the logs bucket"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.raw_bucket_arn, var.staging_bucket_arn]
  }

  statement {
    sid       = "ReadLake"
    actions   = ["s3:GetObject"]
    resources = ["${var.raw_bucket_arn}/*", "${var.staging_bucket_arn}/*"]
  }

  # Finished report folders and their LATEST pointers (ECOMDWH_REPORTS_URI); the logs bucket is SSE-S3.
  statement {
    sid       = "WriteReports"
    actions   = ["s3:PutObject"]
    resources = ["${var.logs_bucket_arn}/reports/*"]
  }

  statement {
    sid       = "UseLakeKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "ecomdwh-pipeline"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

resource "aws_ecs_task_definition" "pipeline" {
  family                   = "${local.name_prefix}-pipeline"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.task_execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The root filesystem is read-only; dbt targets, notebooks' outputs and temp files go to /scratch.
  volume {
    name = "scratch"
  }

  container_definitions = jsonencode([
    {
      name                   = local.container_name
      image                  = var.container_image
      essential              = true
      readonlyRootFilesystem = true
      command                = ["ecomdwh", "--help"]
      mountPoints            = [{ sourceVolume = "scratch", containerPath = "/scratch", readOnly = false }]
      environment = [
        { name = "ECOMDWH_AWS", value = "1" },
        { name = "ECOMDWH_PROJECT", value = var.project },
        { name = "ECOMDWH_ENV", value = var.environment },
        { name = "ECOMDWH_TARGET", value = "redshift" },
        { name = "ECOMDWH_REDSHIFT_HOST", value = var.redshift_host },
        { name = "ECOMDWH_REDSHIFT_PORT", value = tostring(var.redshift_port) },
        { name = "ECOMDWH_REDSHIFT_DBNAME", value = var.redshift_database },
        { name = "ECOMDWH_REDSHIFT_METHOD", value = "database" },
        { name = "ECOMDWH_REDSHIFT_REGION", value = local.region },
        { name = "ECOMDWH_STATE_DIR", value = "/scratch/state" },
        { name = "ECOMDWH_REPORTS_DIR", value = "/scratch/reports" },
        { name = "ECOMDWH_REPORTS_URI", value = local.reports_uri },
        { name = "AWS_DEFAULT_REGION", value = local.region },
        { name = "DBT_TARGET_PATH", value = "/scratch/dbt-target" },
        { name = "DBT_LOG_PATH", value = "/scratch/dbt-logs" },
        { name = "HOME", value = "/scratch" },
        { name = "TMPDIR", value = "/scratch" },
      ]
      # Injected by the ECS agent at start from the Redshift-managed secret; never in terraform state.
      secrets = [
        { name = "ECOMDWH_REDSHIFT_USER", valueFrom = "${var.redshift_admin_secret_arn}:username::" },
        { name = "ECOMDWH_REDSHIFT_PASSWORD", valueFrom = "${var.redshift_admin_secret_arn}:password::" },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.tasks.name
          awslogs-region        = local.region
          awslogs-stream-prefix = "pipeline"
        }
      }
    }
  ])

  tags = var.tags
}

# --- the state machine ---------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "state_machine" {
  #checkov:skip=CKV_AWS_338:Retention is per environment (log_retention_days): prod keeps 365 days, dev less, its runs being reproducible.
  # The /aws/vendedlogs/ prefix keeps CloudWatch's resource policy small as state machines are added.
  name              = "/aws/vendedlogs/states/${local.name_prefix}-pipeline"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  name               = "${local.name_prefix}-pipeline-state-machine"
  description        = "The pipeline state machine: check the landing, run the Glue jobs and the containers, notify"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid       = "CheckLanding"
    actions   = ["s3:ListBucket"]
    resources = [var.raw_bucket_arn]
  }

  statement {
    sid       = "RunGlueJobs"
    actions   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
    resources = local.glue_job_arns
  }

  statement {
    sid       = "RunPipelineContainers"
    actions   = ["ecs:RunTask"]
    resources = ["${aws_ecs_task_definition.pipeline.arn_without_revision}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.this.arn]
    }
  }

  statement {
    sid       = "WatchPipelineContainers"
    actions   = ["ecs:StopTask", "ecs:DescribeTasks"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${aws_ecs_cluster.this.name}/*"]
  }

  # RunTask with propagated tags tags the new task.
  statement {
    sid       = "TagPipelineContainers"
    actions   = ["ecs:TagResource"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${aws_ecs_cluster.this.name}/*"]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "PassContainerRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.task_execution.arn, aws_iam_role.task.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  # ecs:runTask.sync waits on ECS task events through this managed rule.
  statement {
    sid       = "EcsSyncRule"
    actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForECSTaskRule"]
  }

  statement {
    sid       = "Notify"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.notifications.arn, aws_sns_topic.failures.arn]
  }

  statement {
    sid       = "PublishToEncryptedTopics"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  # Log delivery and X-Ray actions have no resource-level permissions.
  statement {
    sid = "ExecutionLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "run-pipeline"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

resource "aws_sfn_state_machine" "pipeline" {
  name       = "${local.name_prefix}-pipeline"
  role_arn   = aws_iam_role.state_machine.arn
  type       = "STANDARD"
  definition = jsonencode(local.definition)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true # the input and error of a failed state: what a rerun needs
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.state_machine]
}

# --- the schedule ------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${local.name_prefix}-pipeline-scheduler"
  description        = "EventBridge Scheduler starts the pipeline"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "StartPipeline"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.pipeline.arn]
  }

  statement {
    sid       = "DecryptScheduleInput"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "start-pipeline"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "pipeline" {
  name                         = "${local.name_prefix}-pipeline"
  description                  = "Daily run of the ${local.name_prefix} pipeline"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  state                        = var.schedule_enabled ? "ENABLED" : "DISABLED"
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.pipeline.arn
    role_arn = aws_iam_role.scheduler.arn
    # The land step takes the day from the scheduled time (the first 10 characters, UTC).
    input = jsonencode({ ingest_date = "<aws.scheduler.scheduled-time>" })

    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }
  }
}
