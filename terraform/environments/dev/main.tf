# Module wiring only: every value that differs between environments is in terraform.tfvars.

locals {
  repo_root = "${path.root}/../../.."
}

module "data_lake" {
  source = "../../modules/data_lake"

  project                = var.project
  environment            = var.environment
  raw_archive_after_days = var.raw_archive_after_days
  log_expiration_days    = var.log_expiration_days
  force_destroy          = var.force_destroy
}

module "network" {
  source = "../../modules/network"

  project                     = var.project
  environment                 = var.environment
  vpc_cidr                    = var.vpc_cidr
  availability_zones          = var.availability_zones
  interface_endpoint_az_count = var.interface_endpoint_az_count
  flow_log_destination_arn    = module.data_lake.flow_log_destination_arn
}

module "glue" {
  source = "../../modules/glue"

  project                   = var.project
  environment               = var.environment
  jobs_dir                  = "${local.repo_root}/glue_local/jobs"
  etl_zip_path              = "${local.repo_root}/dist/glue_etl.zip" # ecomdwh glue package
  raw_bucket_name           = module.data_lake.raw_bucket_name
  raw_bucket_arn            = module.data_lake.raw_bucket_arn
  staging_bucket_name       = module.data_lake.staging_bucket_name
  staging_bucket_arn        = module.data_lake.staging_bucket_arn
  logs_bucket_name          = module.data_lake.logs_bucket_name
  logs_bucket_arn           = module.data_lake.logs_bucket_arn
  kms_key_arn               = module.data_lake.kms_key_arn
  worker_type               = var.glue_worker_type
  number_of_workers         = var.glue_number_of_workers
  log_retention_days        = var.log_retention_days
  manage_catalog_encryption = var.manage_glue_catalog_encryption
}

module "streaming" {
  source = "../../modules/streaming"

  project            = var.project
  environment        = var.environment
  raw_bucket_arn     = module.data_lake.raw_bucket_arn
  kms_key_arn        = module.data_lake.kms_key_arn
  log_retention_days = var.log_retention_days
}

module "redshift_serverless" {
  source = "../../modules/redshift_serverless"

  project            = var.project
  environment        = var.environment
  base_capacity      = var.redshift_base_capacity
  max_capacity       = var.redshift_max_capacity
  usage_limits       = var.redshift_usage_limits
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.redshift_security_group_id]
  staging_bucket_arn = module.data_lake.staging_bucket_arn
  lake_kms_key_arn   = module.data_lake.kms_key_arn
}

module "container_registry" {
  source = "../../modules/container_registry"

  project            = var.project
  environment        = var.environment
  kms_key_arn        = module.data_lake.kms_key_arn
  keep_tagged_images = var.image_keep_tagged
  force_delete       = var.force_destroy
}

module "orchestration" {
  source = "../../modules/orchestration"

  project                     = var.project
  environment                 = var.environment
  raw_bucket_name             = module.data_lake.raw_bucket_name
  raw_bucket_arn              = module.data_lake.raw_bucket_arn
  staging_bucket_arn          = module.data_lake.staging_bucket_arn
  logs_bucket_name            = module.data_lake.logs_bucket_name
  logs_bucket_arn             = module.data_lake.logs_bucket_arn
  kms_key_arn                 = module.data_lake.kms_key_arn
  glue_job_names              = module.glue.job_names
  subnet_ids                  = module.network.private_subnet_ids
  task_security_group_id      = module.network.tasks_security_group_id
  container_image             = "${module.container_registry.repository_url}:${var.image_tag}"
  container_repository_arn    = module.container_registry.repository_arn
  task_cpu                    = var.task_cpu
  task_memory                 = var.task_memory
  redshift_host               = module.redshift_serverless.endpoint_address
  redshift_port               = module.redshift_serverless.endpoint_port
  redshift_database           = module.redshift_serverless.database_name
  redshift_admin_secret_arn   = module.redshift_serverless.admin_secret_arn
  redshift_kms_key_arn        = module.redshift_serverless.kms_key_arn
  schedule_expression         = var.schedule_expression
  schedule_enabled            = var.schedule_enabled
  log_retention_days          = var.log_retention_days
  failure_notification_emails = var.failure_notification_emails
  success_notification_emails = var.success_notification_emails
}

module "monitoring" {
  source = "../../modules/monitoring"

  project                         = var.project
  environment                     = var.environment
  glue_job_names                  = module.glue.job_names
  state_machine_arn               = module.orchestration.state_machine_arn
  redshift_workgroup_name         = module.redshift_serverless.workgroup_name
  alarm_topic_arn                 = module.orchestration.failure_topic_arn
  expect_daily_success            = var.schedule_enabled
  redshift_daily_rpu_hours_alarm  = var.redshift_daily_rpu_hours_alarm
  monthly_budget_usd              = var.monthly_budget_usd
  budget_alert_thresholds_percent = var.budget_alert_thresholds_percent
  budget_notification_emails      = var.budget_notification_emails
  budget_cost_filters             = var.budget_cost_filters
}
