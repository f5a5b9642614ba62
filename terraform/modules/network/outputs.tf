output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, one per availability zone."
  value       = [for az in local.azs : aws_subnet.private[az].id]
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}

output "redshift_security_group_id" {
  description = "Security group of the Redshift Serverless workgroup."
  value       = aws_security_group.redshift.id
}

output "tasks_security_group_id" {
  description = "Security group of the pipeline's ECS tasks."
  value       = aws_security_group.tasks.id
}
