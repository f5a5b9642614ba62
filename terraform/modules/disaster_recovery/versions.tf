terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
      # aws: the primary region (replication role, snapshot schedule); aws.replica: the DR region.
      configuration_aliases = [aws.replica]
    }
  }
}
