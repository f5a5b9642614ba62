output "raw_bucket" {
  description = "Bronze bucket (what ecomdwh land writes with ECOMDWH_AWS=1)."
  value       = module.data_lake.raw_bucket_name
}

output "staging_bucket" {
  description = "Silver bucket."
  value       = module.data_lake.staging_bucket_name
}

output "logs_bucket" {
  description = "Logs bucket."
  value       = module.data_lake.logs_bucket_name
}

output "glue_job_names" {
  description = "The Glue jobs, one per script and entity."
  value       = module.glue.job_names
}

output "redshift_host" {
  description = "ECOMDWH_REDSHIFT_HOST: the workgroup endpoint (reachable from inside the VPC only)."
  value       = module.redshift_serverless.endpoint_address
}

output "redshift_port" {
  description = "ECOMDWH_REDSHIFT_PORT."
  value       = module.redshift_serverless.endpoint_port
}

output "redshift_database" {
  description = "ECOMDWH_REDSHIFT_DBNAME."
  value       = module.redshift_serverless.database_name
}

output "redshift_admin_user" {
  description = "ECOMDWH_REDSHIFT_USER (the password is in the admin secret)."
  value       = module.redshift_serverless.admin_username
}

output "redshift_admin_secret_arn" {
  description = "Secrets Manager secret with the Redshift admin credentials."
  value       = module.redshift_serverless.admin_secret_arn
}

output "redshift_copy_role_arn" {
  description = "The namespace's default IAM role, used by COPY."
  value       = module.redshift_serverless.copy_role_arn
}

output "redshift_workgroup_name" {
  description = "Redshift Serverless workgroup."
  value       = module.redshift_serverless.workgroup_name
}

output "state_machine_arn" {
  description = "The pipeline state machine."
  value       = module.orchestration.state_machine_arn
}

output "failure_topic_arn" {
  description = "SNS topic of failures, alarms and budget alerts."
  value       = module.orchestration.failure_topic_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the pipeline."
  value       = module.monitoring.dashboard_name
}

output "image_repository_url" {
  description = "ECR repository of the pipeline image: docker push <url>:<tag>, then image_tag = <tag>."
  value       = module.container_registry.repository_url
}

output "reports_uri" {
  description = "Where the pipeline containers copy their reports (s3://<logs bucket>/reports)."
  value       = module.orchestration.reports_uri
}

output "stream_names" {
  description = "Firehose delivery stream per <source>/<entity> (`ecomdwh stream` on AWS puts records to them)."
  value       = module.streaming.stream_names
}
