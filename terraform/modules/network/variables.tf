variable "project" {
  type        = string
  description = "Project name, used in resource names."
}

variable "environment" {
  type        = string
  description = "Environment name, used in resource names."
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of the VPC; the private subnets are carved out of it."
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones of the private subnets, one subnet each, named explicitly so a zone AWS adds later never moves a subnet. Redshift Serverless needs three."

  validation {
    condition     = length(var.availability_zones) >= 3
    error_message = "Redshift Serverless needs subnets in at least three availability zones."
  }
}

variable "interface_endpoint_services" {
  type        = list(string)
  description = "AWS services reached through interface endpoints, so private tasks need no NAT gateway: image pulls (ecr.api, ecr.dkr), container logs and the Redshift admin secret."
  default     = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]
}

variable "interface_endpoint_az_count" {
  type        = number
  description = "How many availability zones hold an interface endpoint ENI. Each costs per hour, so dev uses one and prod all."
  default     = 3
}

variable "flow_log_destination_arn" {
  type        = string
  description = "S3 ARN (bucket or bucket/prefix/) VPC flow logs are delivered to: the logs bucket."
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (the provider's default_tags apply as well)."
  default     = {}
}
