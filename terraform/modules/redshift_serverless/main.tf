data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
}

# The warehouse has its own key: its data and admin secret are separable from the lake's.
resource "aws_kms_key" "warehouse" {
  description             = "${local.name_prefix} Redshift Serverless namespace and admin secret"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days

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

resource "aws_kms_alias" "warehouse" {
  name          = "alias/${local.name_prefix}-warehouse"
  target_key_id = aws_kms_key.warehouse.key_id
}

# --- the role COPY uses: read-only on silver --------------------------------------------------------

data "aws_iam_policy_document" "copy_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "copy" {
  name               = "${local.name_prefix}-redshift-copy"
  description        = "Redshift COPY ... FORMAT AS PARQUET from the silver bucket, read-only"
  assume_role_policy = data.aws_iam_policy_document.copy_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "copy" {
  statement {
    sid       = "ListStaging"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.staging_bucket_arn]
  }

  statement {
    sid       = "ReadSilver"
    actions   = ["s3:GetObject"]
    resources = ["${var.staging_bucket_arn}/silver/*"]
  }

  statement {
    sid       = "DecryptSilver"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.lake_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "copy" {
  name   = "copy-from-silver"
  role   = aws_iam_role.copy.id
  policy = data.aws_iam_policy_document.copy.json
}

# --- namespace and workgroup --------------------------------------------------------------------------

resource "aws_redshiftserverless_namespace" "this" {
  namespace_name = local.name_prefix
  db_name        = var.database_name
  admin_username = var.admin_username

  # Redshift generates and rotates the admin password in Secrets Manager; it never passes through terraform.
  manage_admin_password            = true
  admin_password_secret_kms_key_id = aws_kms_key.warehouse.arn
  kms_key_id                       = aws_kms_key.warehouse.arn

  # `COPY ... iam_role default` (src/ecomdwh/warehouse/redshift.py) resolves to this role.
  iam_roles            = [aws_iam_role.copy.arn]
  default_iam_role_arn = aws_iam_role.copy.arn

  log_exports = ["connectionlog", "userlog", "useractivitylog"]

  tags = var.tags
}

resource "aws_redshiftserverless_workgroup" "this" {
  namespace_name = aws_redshiftserverless_namespace.this.namespace_name
  workgroup_name = local.name_prefix
  base_capacity  = var.base_capacity
  max_capacity   = var.max_capacity

  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids

  publicly_accessible  = false
  enhanced_vpc_routing = true # COPY traffic stays in the VPC, through the S3 gateway endpoint

  config_parameter {
    parameter_key   = "require_ssl"
    parameter_value = "true"
  }

  config_parameter {
    parameter_key   = "enable_user_activity_logging"
    parameter_value = "true"
  }

  tags = var.tags
}

resource "aws_redshiftserverless_usage_limit" "compute" {
  for_each = { for limit in var.usage_limits : "${limit.period}-${limit.breach_action}" => limit }

  resource_arn  = aws_redshiftserverless_workgroup.this.arn
  usage_type    = "serverless-compute"
  amount        = each.value.amount
  period        = each.value.period
  breach_action = each.value.breach_action
}
