data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  account_id  = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  partition   = data.aws_partition.current.partition

  # One stream per bronze entity: <project>-<env>-<source>-<entity>, underscores as dashes (the name
  # src/ecomdwh/streaming.py stream_name() gives it).
  streams = { for path in var.event_sources : path => "${local.name_prefix}-${replace(replace(path, "/", "-"), "_", "-")}" }

  # The bronze contract's layout. The ingest date is the landing day: the UTC day Firehose received the
  # oldest record of the object (its timestamp namespace), not a date taken from the record.
  prefixes       = { for path in var.event_sources : path => "${path}/ingest_date=!{timestamp:yyyy-MM-dd}/" }
  error_prefixes = { for path in var.event_sources : path => "${var.error_prefix}/${path}/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/" }
  # Firehose gzips each object whole; the extension replaces its default `.gz`, so the Glue jobs (and
  # Hadoop's codec lookup) see a gzip JSON Lines file of the contract.
  file_extension = ".jsonl.gz"
  log_group_name = "/aws/kinesisfirehose/${local.name_prefix}"
}

# --- IAM: what the streams may do in the raw bucket -------------------------------------------------

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name               = "${local.name_prefix}-firehose"
  description        = "Firehose delivery streams: write bronze objects to the raw bucket"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid       = "LocateRawBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [var.raw_bucket_arn]
  }

  # Only the streamed entities' folders and the error folder: a stream cannot overwrite landed batch files.
  statement {
    sid     = "WriteStreamedBronze"
    actions = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = concat(
      [for path in var.event_sources : "${var.raw_bucket_arn}/${path}/*"],
      ["${var.raw_bucket_arn}/${var.error_prefix}/*"],
    )
  }

  statement {
    sid       = "EncryptThroughS3"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [var.raw_bucket_arn, "${var.raw_bucket_arn}/*"]
    }
  }

  statement {
    sid       = "WriteDeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "deliver-to-bronze"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}

# --- logging ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "firehose" {
  #checkov:skip=CKV_AWS_338:Retention is per environment (log_retention_days): prod keeps 365 days, dev less; the log holds delivery errors, the records themselves go to the error prefix.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "delivery" {
  for_each = local.streams

  name           = "${each.value}-s3-delivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

# --- the delivery streams --------------------------------------------------------------------------

resource "aws_kinesis_firehose_delivery_stream" "this" {
  for_each = local.streams

  name        = each.value
  destination = "extended_s3"

  # DirectPut: `ecomdwh stream` (or any producer) calls PutRecordBatch; records at rest in the stream are
  # encrypted with the lake key.
  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = var.kms_key_arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.firehose.arn
    bucket_arn          = var.raw_bucket_arn
    prefix              = local.prefixes[each.key]
    error_output_prefix = local.error_prefixes[each.key]
    buffering_size      = var.buffering_size_mb
    buffering_interval  = var.buffering_interval_seconds
    compression_format  = "GZIP"
    file_extension      = local.file_extension
    kms_key_arn         = var.kms_key_arn
    s3_backup_mode      = "Disabled"

    # Producers send one JSON object per record, without a line end: Firehose adds it, so every object
    # is JSON Lines whatever the batch sizes.
    processing_configuration {
      enabled = true
      processors {
        type = "AppendDelimiterToRecord"
        parameters {
          parameter_name  = "Delimiter"
          parameter_value = "\\n"
        }
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.delivery[each.key].name
    }
  }

  tags = merge(var.tags, { layer = "bronze", entity = each.key })
}
