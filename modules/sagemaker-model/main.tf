data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id

  create_role        = var.execution_role_arn == null
  execution_role_arn = local.create_role ? aws_iam_role.this[0].arn : var.execution_role_arn

  # Every argument of aws_sagemaker_model forces a new model, and endpoint configurations refer to a
  # model by name. A content hash in the name gives each variant its own name, so create_before_destroy
  # can build the replacement (and a new endpoint configuration pointing at it) before the old model
  # goes, instead of failing on "model already exists". The created role is stable for a given name,
  # so only a caller-supplied role ARN takes part in the hash.
  model_fingerprint = substr(sha1(jsonencode({
    image                    = var.image
    model_data_url           = var.model_data_url
    environment              = var.environment
    execution_role_arn       = var.execution_role_arn
    vpc_config               = var.vpc_config
    enable_network_isolation = var.enable_network_isolation
  })), 0, 8)

  model_name = "${var.name}-${local.model_fingerprint}"
}

resource "aws_sagemaker_model" "this" {
  name                     = local.model_name
  execution_role_arn       = local.execution_role_arn
  enable_network_isolation = var.enable_network_isolation

  primary_container {
    image          = var.image
    model_data_url = var.model_data_url
    environment    = var.environment
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]

    content {
      subnets            = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = var.tags

  # SageMaker checks the role when the model is created; make sure its permissions exist by then.
  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = local.ecr_image == null || try(local.ecr_image.region == local.region, true)
      error_message = "The image is in an ECR registry of another region; SageMaker pulls model images only from its own region. Use the registry of ${local.region}."
    }
  }
}
