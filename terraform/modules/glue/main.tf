data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  account_id  = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  partition   = data.aws_partition.current.partition

  # One job per script and entity, named as glue_local/runtime/runner.py job_name() names them:
  # <project>-<env>-<script with - for _>-<entity with - for _>. A new script gets its jobs here.
  scripts = {
    for file in fileset(var.jobs_dir, "*.py") : trimsuffix(file, ".py") => file
    if !startswith(file, "_")
  }
  jobs = merge([
    for script, file in local.scripts : {
      for entity in var.entities :
      "${local.name_prefix}-${replace(script, "_", "-")}-${replace(entity, "_", "-")}" => {
        script = script
        file   = file
        entity = entity
      }
    }
  ]...)

  artifacts_prefix = "s3://${var.staging_bucket_name}/glue"
  etl_zip_key      = "glue/lib/${basename(var.etl_zip_path)}"
  catalog_database = replace("${local.name_prefix}_silver", "-", "_")
}

# --- artifacts: the scripts as they are in the repo, and the etl zip --------------------------------

# source_hash, not etag: with SSE-KMS the S3 ETag is not the file's MD5, so etag would never settle.
resource "aws_s3_object" "script" {
  for_each = local.scripts

  bucket      = var.staging_bucket_name
  key         = "glue/scripts/${each.value}"
  source      = "${var.jobs_dir}/${each.value}"
  source_hash = filemd5("${var.jobs_dir}/${each.value}")
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

resource "aws_s3_object" "etl_zip" {
  bucket      = var.staging_bucket_name
  key         = local.etl_zip_key
  source      = var.etl_zip_path
  source_hash = filemd5(var.etl_zip_path)
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

# --- encryption ------------------------------------------------------------------------------------

resource "aws_glue_security_configuration" "this" {
  name = "${local.name_prefix}-glue"

  encryption_configuration {
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }
  }
}

resource "aws_glue_data_catalog_encryption_settings" "this" {
  count = var.manage_catalog_encryption ? 1 : 0

  data_catalog_encryption_settings {
    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = var.kms_key_arn
    }
    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = var.kms_key_arn
    }
  }
}

# --- IAM: the jobs read bronze, write silver, and nothing else -------------------------------------

data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "jobs" {
  name               = "${local.name_prefix}-glue-jobs"
  description        = "Glue bronze-to-silver jobs: read raw, write staging"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "jobs" {
  statement {
    sid       = "ListLakeBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.raw_bucket_arn, var.staging_bucket_arn, var.logs_bucket_arn]
  }

  statement {
    sid       = "ReadBronze"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.raw_bucket_arn}/*"]
  }

  # Silver, quarantine and manifests are written; scripts and the zip are read; temporary files come and go.
  statement {
    sid     = "ReadWriteSilver"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [
      "${var.staging_bucket_arn}/silver/*",
      "${var.staging_bucket_arn}/quarantine/*",
      "${var.staging_bucket_arn}/manifests/*",
      "${var.staging_bucket_arn}/glue/temporary/*",
    ]
  }

  statement {
    sid       = "ReadArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["${var.staging_bucket_arn}/glue/scripts/*", "${var.staging_bucket_arn}/glue/lib/*"]
  }

  statement {
    sid       = "SparkUiEventLogs"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${var.logs_bucket_arn}/glue/sparkui/*"]
  }

  statement {
    sid       = "UseLakeKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "WriteJobLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:AssociateKmsKey",
    ]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*",
    ]
  }

  # PutMetricData has no resource-level permissions; the namespace condition narrows it to Glue's.
  statement {
    sid       = "JobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }
}

resource "aws_iam_role_policy" "jobs" {
  name   = "bronze-to-silver"
  role   = aws_iam_role.jobs.id
  policy = data.aws_iam_policy_document.jobs.json
}

# --- the jobs ----------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "jobs" {
  #checkov:skip=CKV_AWS_338:Retention is per environment (log_retention_days): prod keeps 365 days, dev less, its runs being reproducible.
  name              = "/aws-glue/jobs/${local.name_prefix}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_glue_job" "this" {
  for_each = local.jobs

  name                   = each.key
  description            = "${each.value.script} for entity ${each.value.entity} (glue_local/jobs/${each.value.file})"
  role_arn               = aws_iam_role.jobs.arn
  glue_version           = var.glue_version
  worker_type            = var.worker_type
  number_of_workers      = var.number_of_workers
  timeout                = var.timeout_minutes
  max_retries            = var.max_retries
  security_configuration = aws_glue_security_configuration.this.name

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${var.staging_bucket_name}/${aws_s3_object.script[each.value.script].key}"
  }

  # Bookmarks track processed files per job: one run at a time per entity.
  execution_property {
    max_concurrent_runs = 1
  }

  default_arguments = {
    "--entity"                           = each.value.entity
    "--raw_bucket"                       = var.raw_bucket_name
    "--staging_bucket"                   = var.staging_bucket_name
    "--job-bookmark-option"              = "job-bookmark-enable"
    "--extra-py-files"                   = "s3://${var.staging_bucket_name}/${aws_s3_object.etl_zip.key}"
    "--job-language"                     = "python"
    "--TempDir"                          = "${local.artifacts_prefix}/temporary/"
    "--enable-continuous-cloudwatch-log" = "true"
    "--enable-continuous-log-filter"     = "true"
    "--continuous-log-logGroup"          = aws_cloudwatch_log_group.jobs.name
    "--continuous-log-logStreamPrefix"   = each.key
    "--enable-metrics"                   = "true"
    "--enable-observability-metrics"     = "true"
    "--enable-job-insights"              = "true"
    "--enable-spark-ui"                  = "true"
    "--spark-event-logs-path"            = "s3://${var.logs_bucket_name}/glue/sparkui/${each.key}/"
  }

  tags = merge(var.tags, { entity = each.value.entity, script = each.value.script })

  # The role's permissions exist before the first run can start.
  depends_on = [aws_iam_role_policy.jobs]
}

# --- catalog and crawler over silver ---------------------------------------------------------------

resource "aws_glue_catalog_database" "silver" {
  name        = local.catalog_database
  description = "Silver tables of ${local.name_prefix}, discovered by the crawler (Athena, Spectrum)"
}

resource "aws_iam_role" "crawler" {
  name               = "${local.name_prefix}-glue-crawler"
  description        = "Glue crawler: read silver, update the silver catalog database"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "crawler" {
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
    sid       = "DecryptLake"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "UpdateSilverCatalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
      "glue:BatchCreatePartition",
      "glue:BatchUpdatePartition",
      "glue:CreatePartition",
      "glue:UpdatePartition",
    ]
    resources = [
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
      aws_glue_catalog_database.silver.arn,
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${aws_glue_catalog_database.silver.name}/*",
    ]
  }

  statement {
    sid       = "WriteCrawlerLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*"]
  }
}

resource "aws_iam_role_policy" "crawler" {
  name   = "silver-crawler"
  role   = aws_iam_role.crawler.id
  policy = data.aws_iam_policy_document.crawler.json
}

# Partitions are ingest_date=/job_run_id= folders. The crawler lists every run folder, committed or
# not; the warehouse load reads only what committed manifests list (docs/glue.md).
resource "aws_glue_crawler" "silver" {
  name                   = "${local.name_prefix}-silver"
  description            = "Silver parquet, one table per entity"
  role                   = aws_iam_role.crawler.arn
  database_name          = aws_glue_catalog_database.silver.name
  schedule               = var.crawler_schedule
  security_configuration = aws_glue_security_configuration.this.name

  dynamic "s3_target" {
    for_each = toset(var.entities)
    content {
      path = "s3://${var.staging_bucket_name}/silver/${s3_target.value}/"
    }
  }

  recrawl_policy {
    recrawl_behavior = "CRAWL_NEW_FOLDERS_ONLY"
  }

  # With CRAWL_NEW_FOLDERS_ONLY, Glue requires LOG for both behaviours.
  schema_change_policy {
    update_behavior = "LOG"
    delete_behavior = "LOG"
  }

  configuration = jsonencode({
    Version = 1
    Grouping = {
      TableGroupingPolicy = "CombineCompatibleSchemas"
    }
    CrawlerOutput = {
      Partitions = { AddOrUpdateBehavior = "InheritFromTable" }
    }
  })

  tags = var.tags
}
