# State of the dev environment. S3 bucket names are global: if this one is taken, choose another
# and create it first (docs/deployment.md, "Bootstrap the state bucket").
bucket = "ecomdwh-dev-tfstate"
region = "us-east-1"
