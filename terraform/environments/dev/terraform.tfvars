# dev: the reduced capacity; everything sized to be cheap when idle.
region      = "us-east-1"
project     = "ecomdwh"
environment = "dev"
owner       = "data-platform"
cost_center = "analytics-dev"

vpc_cidr                    = "10.40.0.0/16"
availability_zones          = ["us-east-1a", "us-east-1b", "us-east-1c"]
interface_endpoint_az_count = 1 # one ENI per endpoint: tasks in other zones reach it across zones

raw_archive_after_days = 30
log_expiration_days    = 30
log_retention_days     = 14
force_destroy          = true # dev data is reproducible from the sample; prod keeps false

glue_worker_type               = "G.1X"
glue_number_of_workers         = 2
manage_glue_catalog_encryption = true # set false in the second environment if dev and prod share an account

redshift_base_capacity = 8
redshift_max_capacity  = 16
redshift_usage_limits = [
  { amount = 8, period = "daily", breach_action = "emit-metric" },
  { amount = 16, period = "daily", breach_action = "deactivate" },
]
redshift_daily_rpu_hours_alarm = 8

# The pipeline image: this repository installed (docs/deployment.md, "The pipeline image").
# The tag pushed to module.container_registry's repository: the build's git commit (make image).
image_tag         = "REPLACE_ME"
image_keep_tagged = 10
task_cpu          = 1024
task_memory       = 4096

schedule_expression = "cron(0 4 * * ? *)"
schedule_enabled    = false # dev runs on demand: aws stepfunctions start-execution

failure_notification_emails = []
success_notification_emails = []

# Estimated dev run rate ~USD 140/month (docs/deployment.md, "Costs"); alerts before it doubles.
monthly_budget_usd              = 200
budget_alert_thresholds_percent = [50, 80, 100]
budget_notification_emails      = []
budget_cost_filters             = {}

# Disaster recovery is off in dev: its lake is reproducible from the sample. dr_enabled = true
# gives dev prod's setup (docs/deployment.md, "Disaster recovery").
dr_enabled                  = false
dr_region                   = "us-west-2"
dr_replication_time_control = false
dr_replica_storage_class    = "STANDARD_IA"
dr_snapshot_retention_days  = 1
