output "namespace_name" {
  description = "Name of the Redshift Serverless namespace."
  value       = aws_redshiftserverless_namespace.this.namespace_name
}

output "workgroup_name" {
  description = "Name of the Redshift Serverless workgroup."
  value       = aws_redshiftserverless_workgroup.this.workgroup_name
}

output "workgroup_arn" {
  description = "ARN of the Redshift Serverless workgroup."
  value       = aws_redshiftserverless_workgroup.this.arn
}

output "endpoint_address" {
  description = "Host of the workgroup endpoint (ECOMDWH_REDSHIFT_HOST)."
  value       = aws_redshiftserverless_workgroup.this.endpoint[0].address
}

output "endpoint_port" {
  description = "Port of the workgroup endpoint (ECOMDWH_REDSHIFT_PORT)."
  value       = aws_redshiftserverless_workgroup.this.endpoint[0].port
}

output "database_name" {
  description = "Database of the namespace (ECOMDWH_REDSHIFT_DBNAME)."
  value       = aws_redshiftserverless_namespace.this.db_name
}

output "admin_username" {
  description = "Admin user (ECOMDWH_REDSHIFT_USER)."
  value       = var.admin_username
}

output "admin_secret_arn" {
  description = "Secrets Manager secret holding the admin credentials, managed by Redshift."
  value       = aws_redshiftserverless_namespace.this.admin_password_secret_arn
}

output "copy_role_arn" {
  description = "IAM role COPY uses, the namespace's default role (ECOMDWH_REDSHIFT_IAM_ROLE if set explicitly)."
  value       = aws_iam_role.copy.arn
}

output "kms_key_arn" {
  description = "KMS key of the namespace and its admin secret."
  value       = aws_kms_key.warehouse.arn
}

output "namespace_arn" {
  description = "ARN of the Redshift Serverless namespace."
  value       = aws_redshiftserverless_namespace.this.arn
}
