output "repository_name" {
  description = "ECR repository of the pipeline image, <project>-<env>-pipeline."
  value       = aws_ecr_repository.pipeline.name
}

output "repository_arn" {
  description = "ARN of the repository."
  value       = aws_ecr_repository.pipeline.arn
}

output "repository_url" {
  description = "<account>.dkr.ecr.<region>.amazonaws.com/<name>: docker push to it, the task definition runs <url>:<image_tag>."
  value       = aws_ecr_repository.pipeline.repository_url
}
