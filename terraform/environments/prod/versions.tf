terraform {
  # 1.10+: the S3 backend locks with a lock file next to the state (use_lockfile), no DynamoDB table.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }

  # Partial configuration: the bucket and region are in backend.hcl
  # (terraform init -backend-config=backend.hcl); the key is fixed per environment.
  backend "s3" {
    key          = "ecomdwh/prod/terraform.tfstate"
    use_lockfile = true
    encrypt      = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project     = var.project
      environment = var.environment
      owner       = var.owner
      cost_center = var.cost_center
      managed_by  = "terraform"
    }
  }
}
