output "job_names" {
  description = "Names of every Glue job, sorted: one per script in jobs_dir and entity."
  value       = sort(keys(aws_glue_job.this))
}

output "jobs" {
  description = "Every Glue job by name: its script, entity and ARN."
  value = {
    for name, job in aws_glue_job.this : name => {
      script = local.jobs[name].script
      entity = local.jobs[name].entity
      arn    = job.arn
    }
  }
}

output "job_arns" {
  description = "ARNs of every Glue job."
  value       = [for name in sort(keys(aws_glue_job.this)) : aws_glue_job.this[name].arn]
}

output "script_s3_uris" {
  description = "Uploaded job scripts by script name."
  value       = { for script, obj in aws_s3_object.script : script => "s3://${obj.bucket}/${obj.key}" }
}

output "etl_zip_s3_uri" {
  description = "The --extra-py-files zip in S3."
  value       = "s3://${aws_s3_object.etl_zip.bucket}/${aws_s3_object.etl_zip.key}"
}

output "catalog_database_name" {
  description = "Glue catalog database of the silver tables."
  value       = aws_glue_catalog_database.silver.name
}

output "crawler_name" {
  description = "Name of the silver crawler."
  value       = aws_glue_crawler.silver.name
}

output "job_role_arn" {
  description = "IAM role the jobs run as."
  value       = aws_iam_role.jobs.arn
}

output "log_group_name" {
  description = "Continuous-logging log group of the jobs."
  value       = aws_cloudwatch_log_group.jobs.name
}
