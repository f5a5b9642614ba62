# prod: full capacity, long retention, scheduled daily.
region      = "us-east-1"
project     = "ecomdwh"
environment = "prod"
owner       = "data-platform"
cost_center = "analytics"

vpc_cidr                    = "10.50.0.0/16"
availability_zones          = ["us-east-1a", "us-east-1b", "us-east-1c"]
interface_endpoint_az_count = 3

raw_archive_after_days = 90
log_expiration_days    = 365
log_retention_days     = 365
force_destroy          = false

glue_worker_type               = "G.1X"
glue_number_of_workers         = 5
manage_glue_catalog_encryption = true

redshift_base_capacity = 32
redshift_max_capacity  = 128
redshift_usage_limits = [
  { amount = 120, period = "daily", breach_action = "emit-metric" },
  { amount = 4000, period = "monthly", breach_action = "deactivate" },
]
redshift_daily_rpu_hours_alarm = 120

# The pipeline image: this repository installed (docs/deployment.md, "The pipeline image").
# The tag pushed to module.container_registry's repository: the build's git commit (make image).
image_tag         = "REPLACE_ME"
image_keep_tagged = 30
task_cpu          = 2048
task_memory       = 8192

schedule_expression = "cron(0 4 * * ? *)"
schedule_enabled    = true

failure_notification_emails = []
success_notification_emails = []

# Estimated prod run rate ~USD 1,280/month with disaster recovery (docs/deployment.md, "Costs").
monthly_budget_usd              = 1500
budget_alert_thresholds_percent = [50, 80, 100]
budget_notification_emails      = []
budget_cost_filters             = {}

# Disaster recovery (docs/deployment.md, "Disaster recovery"): the lake replicated to us-west-2 with
# Replication Time Control, replicas in Standard-IA, a daily warehouse snapshot kept 7 days in both regions.
dr_enabled                  = true
dr_region                   = "us-west-2"
dr_replication_time_control = true
dr_replica_storage_class    = "STANDARD_IA"
dr_snapshot_retention_days  = 7
