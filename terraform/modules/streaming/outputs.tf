output "stream_names" {
  description = "Delivery stream name per <source>/<entity>: what `ecomdwh stream` puts records to."
  value       = { for path, stream in aws_kinesis_firehose_delivery_stream.this : path => stream.name }
}

output "stream_arns" {
  description = "Delivery stream ARN per <source>/<entity> (for a producer's firehose:PutRecordBatch grant)."
  value       = { for path, stream in aws_kinesis_firehose_delivery_stream.this : path => stream.arn }
}

output "prefixes" {
  description = "S3 prefix per <source>/<entity>: the bronze layout, ingest_date from Firehose's arrival time."
  value       = local.prefixes
}

output "error_output_prefixes" {
  description = "S3 prefix per <source>/<entity> for records Firehose could not deliver."
  value       = local.error_prefixes
}

output "file_extension" {
  description = "Extension of every delivered object (gzip JSON Lines)."
  value       = local.file_extension
}

output "compression_formats" {
  description = "Compression per <source>/<entity>."
  value       = { for path, stream in aws_kinesis_firehose_delivery_stream.this : path => stream.extended_s3_configuration[0].compression_format }
}

output "delimiter_processors" {
  description = "The record processors per <source>/<entity> (the newline delimiter)."
  value       = { for path, stream in aws_kinesis_firehose_delivery_stream.this : path => [for p in stream.extended_s3_configuration[0].processing_configuration[0].processors : p.type] }
}

output "role_arn" {
  description = "IAM role the streams deliver with."
  value       = aws_iam_role.firehose.arn
}

output "log_group_name" {
  description = "Log group of delivery errors."
  value       = aws_cloudwatch_log_group.firehose.name
}
