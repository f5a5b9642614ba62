# Plans and applies an environment against a mocked AWS provider (no account, no network): the
# templatefile/jsondecode rendering of the state machine, the Glue job fan-out and the module
# outputs are evaluated for real; the second run turns disaster recovery on and checks the
# replication rules. tests/terraform/test_tools.py copies this file into a
# scratch copy of an environment and runs `terraform test` there.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mock-bucket" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:111122223333:mock-topic" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/mock-role" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:111122223333:log-group:mock" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:us-east-1:111122223333:rule/mock" }
  }
  mock_resource "aws_ecs_cluster" {
    defaults = { arn = "arn:aws:ecs:us-east-1:111122223333:cluster/mock" }
  }
  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn                  = "arn:aws:ecs:us-east-1:111122223333:task-definition/mock:1"
      arn_without_revision = "arn:aws:ecs:us-east-1:111122223333:task-definition/mock"
    }
  }
  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:us-east-1:111122223333:repository/mock"
      repository_url = "111122223333.dkr.ecr.us-east-1.amazonaws.com/mock"
    }
  }
  mock_resource "aws_kinesis_firehose_delivery_stream" {
    defaults = { arn = "arn:aws:firehose:us-east-1:111122223333:deliverystream/mock" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:us-east-1:111122223333:stateMachine:mock" }
  }
  mock_resource "aws_glue_job" {
    defaults = { arn = "arn:aws:glue:us-east-1:111122223333:job/mock" }
  }
  mock_resource "aws_glue_catalog_database" {
    defaults = { arn = "arn:aws:glue:us-east-1:111122223333:database/mock" }
  }
  mock_resource "aws_vpc_endpoint" {
    defaults = { prefix_list_id = "pl-00000000" }
  }
  mock_resource "aws_redshiftserverless_namespace" {
    defaults = { admin_password_secret_arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:mock" }
  }
  mock_resource "aws_redshiftserverless_workgroup" {
    defaults = {
      arn      = "arn:aws:redshift-serverless:us-east-1:111122223333:workgroup/mock"
      endpoint = [{ address = "mock.111122223333.us-east-1.redshift-serverless.amazonaws.com", port = 5439, vpc_endpoint = [] }]
    }
  }
}

# The DR region's provider (aws.dr): its buckets and key get ARNs of their own, so a rule that
# pointed at a primary bucket or the lake key would not pass for a replica.
mock_provider "aws" {
  alias = "dr"

  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-west-2" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-west-2:111122223333:key/11111111-1111-1111-1111-111111111111" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mock-replica-bucket" }
  }
}

variables {
  image_tag = "0123abc"
}

run "environment" {
  command = apply

  assert {
    condition     = module.data_lake.raw_bucket_name == "${var.project}-${var.environment}-raw" && module.data_lake.staging_bucket_name == "${var.project}-${var.environment}-staging" && module.data_lake.logs_bucket_name == "${var.project}-${var.environment}-logs"
    error_message = "Bucket names must be <project>-<env>-raw|staging|logs, as in src/ecomdwh/settings.py."
  }

  assert {
    condition     = length(module.glue.job_names) == 6 * length([for f in fileset("${path.root}/../../../glue_local/jobs", "*.py") : f if !startswith(f, "_")])
    error_message = "Every script in glue_local/jobs must get one job per entity."
  }

  assert {
    condition     = contains(module.glue.job_names, "${var.project}-${var.environment}-bronze-to-silver-shipment-events")
    error_message = "Job names must follow glue_local/runtime/runner.py job_name()."
  }

  assert {
    condition     = jsonencode([for b in jsondecode(module.orchestration.state_machine_definition).States.glue.Branches : b.StartAt]) == jsonencode(module.glue.job_names)
    error_message = "The glue state must hold one branch per Glue job."
  }

  assert {
    condition = alltrue([
      for b in jsondecode(module.orchestration.state_machine_definition).States.glue.Branches :
      b.States[b.StartAt].Resource == "arn:aws:states:::glue:startJobRun.sync" && b.States[b.StartAt].Arguments.JobName == b.StartAt
    ])
    error_message = "Each glue branch must run its own job with startJobRun.sync."
  }

  assert {
    condition     = module.orchestration.container_image == "111122223333.dkr.ecr.us-east-1.amazonaws.com/mock:${var.image_tag}" && module.container_registry.repository_name == "${var.project}-${var.environment}-pipeline"
    error_message = "The task definition must run <the environment's ECR repository URL>:<image_tag>."
  }

  assert {
    condition     = module.orchestration.reports_uri == "s3://${module.data_lake.logs_bucket_name}/reports"
    error_message = "The containers must copy their reports to the logs bucket's reports/ prefix."
  }

  assert {
    condition     = !strcontains(module.orchestration.state_machine_definition, "GLUE_JOB_NAME_PLACEHOLDER")
    error_message = "The branch placeholder must not reach the deployed definition."
  }

  assert {
    condition = module.streaming.stream_names == {
      "logistics/shipment_events" = "${var.project}-${var.environment}-logistics-shipment-events"
      "payments/payments"         = "${var.project}-${var.environment}-payments-payments"
    }
    error_message = "One delivery stream per streamed entity, named as src/ecomdwh/streaming.py stream_name()."
  }

  assert {
    condition = alltrue([
      for path, prefix in module.streaming.prefixes :
      prefix == "${path}/ingest_date=!{timestamp:yyyy-MM-dd}/" && can(regex("^[a-z_]+/[a-z_]+/ingest_date=", prefix))
    ])
    error_message = "Streams must write the bronze layout <source>/<entity>/ingest_date=YYYY-MM-DD/, the date from Firehose's arrival time."
  }

  assert {
    condition = alltrue([
      for path, prefix in module.streaming.error_output_prefixes :
      startswith(prefix, "firehose_errors/${path}/!{firehose:error-output-type}/") && !startswith(prefix, path)
    ])
    error_message = "Undeliverable records go under firehose_errors/, outside every folder a Glue job reads."
  }

  assert {
    condition     = module.streaming.file_extension == ".jsonl.gz" && alltrue([for f in values(module.streaming.compression_formats) : f == "GZIP"])
    error_message = "Streamed objects are gzip JSON Lines named *.jsonl.gz, an extension of the contract."
  }

  assert {
    condition     = alltrue([for p in values(module.streaming.delimiter_processors) : p == ["AppendDelimiterToRecord"]])
    error_message = "Each stream appends the newline delimiter, so every object is JSON Lines."
  }
}

run "disaster_recovery" {
  command = apply

  variables {
    dr_enabled = true
  }

  assert {
    condition     = module.disaster_recovery[0].replica_region == var.dr_region && module.disaster_recovery[0].replica_environment == "${var.environment}-dr"
    error_message = "The replicas must live in dr_region, as the lake of the environment <env>-dr."
  }

  assert {
    condition     = jsonencode(keys(module.disaster_recovery[0].replication_rules)) == jsonencode(["raw", "staging"])
    error_message = "raw and staging (with the Glue scripts and the etl zip) must both be replicated."
  }

  assert {
    condition = alltrue([
      for layer, rule in module.disaster_recovery[0].replication_rules :
      rule.source == "${var.project}-${var.environment}-${layer}" &&
      module.disaster_recovery[0].replica_bucket_names[layer] == "${var.project}-${var.environment}-dr-${layer}" &&
      rule.destination == module.disaster_recovery[0].replica_bucket_arns[layer] &&
      rule.destination != module.data_lake.raw_bucket_arn && rule.destination != module.data_lake.staging_bucket_arn
    ])
    error_message = "Each lake bucket must replicate to its own replica bucket in the DR region."
  }

  assert {
    condition = alltrue([
      for layer, rule in module.disaster_recovery[0].replication_rules :
      rule.replica_kms_key_id == module.disaster_recovery[0].replica_kms_key_arn &&
      rule.replica_kms_key_id != module.data_lake.kms_key_arn &&
      strcontains(rule.replica_kms_key_id, ":${var.dr_region}:") && rule.sse_kms_objects == "Enabled"
    ])
    error_message = "Replicas must be re-encrypted with the DR region's key, and SSE-KMS objects selected."
  }

  assert {
    condition = alltrue([
      for layer, rule in module.disaster_recovery[0].replication_rules :
      rule.delete_markers == "Disabled" && rule.replication_minutes == (var.dr_replication_time_control ? 15 : 0) &&
      rule.failback_destination == (layer == "raw" ? module.data_lake.raw_bucket_arn : module.data_lake.staging_bucket_arn)
    ])
    error_message = "Delete markers stay in the primary, RTC follows dr_replication_time_control, and the replicas replicate back to their primary bucket."
  }

  assert {
    condition     = strcontains(module.disaster_recovery[0].snapshot_copy_command, "--destination-region ${var.dr_region}") && strcontains(module.disaster_recovery[0].snapshot_copy_command, "--destination-kms-key-id ${module.disaster_recovery[0].replica_kms_key_arn}")
    error_message = "The snapshot copy command must copy to the DR region with the DR key."
  }
}
