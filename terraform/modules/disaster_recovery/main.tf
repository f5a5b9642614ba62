data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

data "aws_region" "replica" {
  provider = aws.replica
}

locals {
  name_prefix    = "${var.project}-${var.environment}"
  account_id     = data.aws_caller_identity.current.account_id
  region         = data.aws_region.current.name
  replica_region = data.aws_region.replica.name
  partition      = data.aws_partition.current.partition

  # The replicas are the lake of the environment <env>-dr: the names src/ecomdwh/settings.py gives
  # ECOMDWH_ENV=<env>-dr, so a failover points the workbench at them by changing the env name.
  replica_environment = "${var.environment}-dr"
  replica_buckets     = { for layer in keys(var.source_buckets) : layer => "${var.project}-${local.replica_environment}-${layer}" }
}

# --- KMS: the DR region's key (replicas and copied warehouse snapshots) ---------------------------

resource "aws_kms_key" "replica" {
  provider = aws.replica

  description             = "${local.name_prefix} disaster recovery: lake replicas and copied Redshift snapshots in ${local.replica_region}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days

  # The account administers the key through IAM; S3 replication and Redshift use it through the
  # roles and callers IAM allows.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "replica" {
  provider = aws.replica

  name          = "alias/${local.name_prefix}-dr"
  target_key_id = aws_kms_key.replica.key_id
}

# --- the replica buckets in the DR region --------------------------------------------------------------

resource "aws_s3_bucket" "replica" {
  #checkov:skip=CKV_AWS_18:Replicas are written only by replication and read only in a failover; their access log would need a logs bucket of its own in the DR region.
  provider = aws.replica
  for_each = local.replica_buckets

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { layer = each.key == "raw" ? "bronze" : "silver", replica_of = var.source_buckets[each.key].name })
}

resource "aws_s3_bucket_ownership_controls" "replica" {
  provider = aws.replica
  for_each = local.replica_buckets

  bucket = aws_s3_bucket.replica[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "replica" {
  provider = aws.replica
  for_each = local.replica_buckets

  bucket                  = aws_s3_bucket.replica[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Replication needs versioning on both sides.
resource "aws_s3_bucket_versioning" "replica" {
  provider = aws.replica
  for_each = local.replica_buckets

  bucket = aws_s3_bucket.replica[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  provider = aws.replica
  for_each = local.replica_buckets

  bucket = aws_s3_bucket.replica[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.replica.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "replica" {
  provider = aws.replica
  for_each = local.replica_buckets

  bucket = aws_s3_bucket.replica[each.key].id

  rule {
    id     = "expire-noncurrent"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Deletes are not replicated (see the replication rule), so the replica expires Glue's
  # temporary files itself, as the staging bucket does.
  dynamic "rule" {
    for_each = each.key == "staging" ? [1] : []
    content {
      id     = "expire-glue-temporary"
      status = "Enabled"
      filter {
        prefix = "glue/temporary/"
      }
      expiration {
        days = var.glue_temporary_expiration_days
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.replica]
}

resource "aws_s3_bucket_notification" "replica" {
  provider = aws.replica
  for_each = local.replica_buckets

  bucket      = aws_s3_bucket.replica[each.key].id
  eventbridge = true
}

data "aws_iam_policy_document" "replica_bucket" {
  for_each = local.replica_buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.replica[each.key].arn,
      "${aws_s3_bucket.replica[each.key].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "replica" {
  provider = aws.replica
  for_each = local.replica_buckets

  bucket = aws_s3_bucket.replica[each.key].id
  policy = data.aws_iam_policy_document.replica_bucket[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.replica]
}

# --- replication: primary -> DR, and DR -> primary for what a failover writes -----------------------

data "aws_iam_policy_document" "replication_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "replication" {
  name               = "${local.name_prefix}-lake-replication"
  description        = "S3 replication of raw and staging to ${local.replica_region} and back"
  assume_role_policy = data.aws_iam_policy_document.replication_assume.json
  tags               = var.tags
}

locals {
  # Each pair replicates both ways: source -> replica always, replica -> source for objects written in a failover.
  replication_buckets = concat(values(var.source_buckets)[*].arn, values(aws_s3_bucket.replica)[*].arn)
}

data "aws_iam_policy_document" "replication" {
  statement {
    sid       = "ReadReplicationConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = local.replication_buckets
  }

  statement {
    sid       = "ReadObjectVersions"
    actions   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"]
    resources = [for arn in local.replication_buckets : "${arn}/*"]
  }

  # No s3:ReplicateDelete: delete markers are not replicated (docs/deployment.md, "Disaster recovery").
  statement {
    sid       = "WriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateTags"]
    resources = [for arn in local.replication_buckets : "${arn}/*"]
  }

  statement {
    sid       = "DecryptSource"
    actions   = ["kms:Decrypt"]
    resources = [var.source_kms_key_arn, aws_kms_key.replica.arn]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "s3.${local.replica_region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "EncryptReplica"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.source_kms_key_arn, aws_kms_key.replica.arn]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "s3.${local.replica_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "replication" {
  name   = "replicate-lake"
  role   = aws_iam_role.replication.id
  policy = data.aws_iam_policy_document.replication.json
}

resource "aws_s3_bucket_replication_configuration" "to_replica" {
  for_each = var.source_buckets

  bucket = each.value.name
  role   = aws_iam_role.replication.arn

  rule {
    id     = "to-${local.replica_region}"
    status = "Enabled"
    # The whole bucket: for staging that is silver/, quarantine/, manifests/, lake-id.json and
    # glue/ (the job scripts and the etl zip Glue runs).
    filter {}

    # Deletes stay in the primary: the lake is append-only (bronze immutable, silver committed by
    # manifests), so a delete there is a mistake or an attack the replica must not repeat.
    delete_marker_replication {
      status = "Disabled"
    }

    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket        = aws_s3_bucket.replica[each.key].arn
      storage_class = var.replica_storage_class

      # Re-encrypted with the DR region's key: the replica does not depend on the primary region's KMS.
      encryption_configuration {
        replica_kms_key_id = aws_kms_key.replica.arn
      }

      dynamic "replication_time" {
        for_each = var.replication_time_control ? [1] : []
        content {
          status = "Enabled"
          time {
            minutes = 15
          }
        }
      }

      dynamic "metrics" {
        for_each = var.replication_time_control ? [1] : []
        content {
          status = "Enabled"
          event_threshold {
            minutes = 15
          }
        }
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.replica, aws_iam_role_policy.replication]
}

# Objects replication wrote are never replicated again, so this rule copies back only what is written
# in the DR region during a failover: failback then finds it in the primary buckets.
resource "aws_s3_bucket_replication_configuration" "to_primary" {
  provider = aws.replica
  for_each = var.source_buckets

  bucket = aws_s3_bucket.replica[each.key].id
  role   = aws_iam_role.replication.arn

  rule {
    id     = "to-${local.region}"
    status = "Enabled"
    filter {}

    delete_marker_replication {
      status = "Disabled"
    }

    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket = each.value.arn
      encryption_configuration {
        replica_kms_key_id = var.source_kms_key_arn
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.replica, aws_iam_role_policy.replication]
}

# --- the warehouse: a daily snapshot, copied to the DR region ---------------------------------------
# Redshift Serverless keeps recovery points every 30 minutes for 24 hours in its own region only.
# A snapshot copy configuration copies snapshots to another region, but the AWS provider has no
# resource for it: output snapshot_copy_command is the one-time command (docs/deployment.md).

data "aws_iam_policy_document" "snapshot_assume" {
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

resource "aws_iam_role" "snapshot" {
  name               = "${local.name_prefix}-warehouse-snapshot"
  description        = "EventBridge Scheduler snapshots the ${var.redshift_namespace_name} namespace"
  assume_role_policy = data.aws_iam_policy_document.snapshot_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "snapshot" {
  statement {
    sid     = "SnapshotTheNamespace"
    actions = ["redshift-serverless:CreateSnapshot"]
    resources = [
      var.redshift_namespace_arn,
      "arn:${local.partition}:redshift-serverless:${local.region}:${local.account_id}:snapshot/*",
    ]
  }

  statement {
    sid       = "DecryptScheduleInput"
    actions   = ["kms:Decrypt"]
    resources = [var.source_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "snapshot" {
  name   = "snapshot-namespace"
  role   = aws_iam_role.snapshot.id
  policy = data.aws_iam_policy_document.snapshot.json
}

resource "aws_scheduler_schedule" "snapshot" {
  name                = "${local.name_prefix}-warehouse-snapshot"
  description         = "Daily snapshot of ${var.redshift_namespace_name}, copied to ${local.replica_region}"
  schedule_expression = var.snapshot_schedule_expression
  kms_key_arn         = var.source_kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  # A universal target: the Redshift Serverless CreateSnapshot API, one snapshot name per invocation.
  target {
    arn      = "arn:${local.partition}:scheduler:::aws-sdk:redshiftserverless:createSnapshot"
    role_arn = aws_iam_role.snapshot.arn
    input = jsonencode({
      NamespaceName   = var.redshift_namespace_name
      SnapshotName    = "${var.redshift_namespace_name}-scheduled-<aws.scheduler.execution-id>"
      RetentionPeriod = var.snapshot_retention_days
    })

    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }
  }
}
