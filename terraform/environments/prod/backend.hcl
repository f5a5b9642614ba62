# State of the prod environment: its own bucket (it may live in its own account). S3 bucket names
# are global: if this one is taken, choose another and create it first (docs/deployment.md).
bucket = "ecomdwh-prod-tfstate"
region = "us-east-1"
