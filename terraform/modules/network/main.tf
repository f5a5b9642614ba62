data "aws_region" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  azs         = var.availability_zones
  # /20 subnets: room for Redshift Serverless (which wants free IPs per RPU step) and Fargate tasks.
  private_subnets = { for i, az in local.azs : az => cidrsubnet(var.vpc_cidr, 4, i) }
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # interface endpoints with private DNS need both
  tags                 = merge(var.tags, { Name = local.name_prefix })
}

# The default security group allows nothing: every resource gets an explicit one.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${local.name_prefix}-default-deny" })
}

resource "aws_flow_log" "this" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = var.flow_log_destination_arn
  tags                 = var.tags
}

# Private subnets only: nothing in this VPC is reachable from the internet, and there is no NAT.
resource "aws_subnet" "private" {
  for_each = local.private_subnets

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = each.value
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${local.name_prefix}-private-${each.key}", tier = "private" })
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${local.name_prefix}-private" })
}

resource "aws_route_table_association" "private" {
  for_each = aws_subnet.private

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private.id
}

# S3 through the gateway endpoint (free): Redshift COPY with enhanced VPC routing and ECR image layers.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  tags              = merge(var.tags, { Name = "${local.name_prefix}-s3" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(var.interface_endpoint_services)

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.value}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = slice([for az in local.azs : aws_subnet.private[az].id], 0, var.interface_endpoint_az_count)
  security_group_ids  = [aws_security_group.endpoints.id]
  tags                = merge(var.tags, { Name = "${local.name_prefix}-${each.value}" })
}

# --- security groups ------------------------------------------------------------------------------

resource "aws_security_group" "endpoints" {
  name        = "${local.name_prefix}-endpoints"
  description = "Interface endpoints: HTTPS from inside the VPC only"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${local.name_prefix}-endpoints" })
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  security_group_id = aws_security_group.endpoints.id
  description       = "HTTPS from inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_security_group" "tasks" {
  #checkov:skip=CKV2_AWS_5:Attached outside terraform's graph: the state machine passes it to every ECS task it starts (orchestration module).
  name        = "${local.name_prefix}-pipeline-tasks"
  description = "Pipeline containers (load, dbt, reconcile, report): no inbound, outbound to AWS APIs and Redshift only"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${local.name_prefix}-pipeline-tasks" })
}

resource "aws_vpc_security_group_egress_rule" "tasks_endpoints" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "HTTPS to the interface endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_egress_rule" "tasks_s3" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

resource "aws_vpc_security_group_egress_rule" "tasks_redshift" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Redshift Serverless workgroup"
  ip_protocol                  = "tcp"
  from_port                    = 5439
  to_port                      = 5439
  referenced_security_group_id = aws_security_group.redshift.id
}

resource "aws_security_group" "redshift" {
  #checkov:skip=CKV2_AWS_5:Attached in another module: the redshift_serverless workgroup's security_group_ids.
  name        = "${local.name_prefix}-redshift"
  description = "Redshift Serverless: reachable from the pipeline tasks inside the VPC only"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${local.name_prefix}-redshift" })
}

resource "aws_vpc_security_group_ingress_rule" "redshift_from_tasks" {
  security_group_id            = aws_security_group.redshift.id
  description                  = "Redshift from the pipeline tasks"
  ip_protocol                  = "tcp"
  from_port                    = 5439
  to_port                      = 5439
  referenced_security_group_id = aws_security_group.tasks.id
}

# COPY with enhanced VPC routing reads S3 through the gateway endpoint.
resource "aws_vpc_security_group_egress_rule" "redshift_s3" {
  security_group_id = aws_security_group.redshift.id
  description       = "HTTPS to S3 through the gateway endpoint (COPY)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}
