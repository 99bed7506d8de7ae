data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # SageMaker lower-cases names in ARNs; policies that match ARNs must do the same.
  endpoint_arn = "arn:${data.aws_partition.current.partition}:sagemaker:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:endpoint/${lower(var.name)}"
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  #checkov:skip=CKV_AWS_98:KmsKeyId encrypts the storage volumes of the ML instances behind an endpoint; a serverless endpoint runs on no instances of this account, so there is no volume for a key to encrypt.
  # Endpoint configurations are immutable: a fresh name per change plus create_before_destroy rolls a new
  # memory size or concurrency out as an UpdateEndpoint instead of failing on a name clash.
  name_prefix = "${substr(var.name, 0, 36)}-"

  production_variants {
    variant_name = var.variant_name
    model_name   = var.model_name

    serverless_config {
      memory_size_in_mb       = var.serverless_config.memory_size_in_mb
      max_concurrency         = var.serverless_config.max_concurrency
      provisioned_concurrency = var.serverless_config.provisioned_concurrency
    }
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

# A serverless endpoint costs nothing while no request runs, so Terraform owns it outright: no sleep/wake
# manager, no scaling policy. SageMaker scales it from zero to max_concurrency by itself.
resource "aws_sagemaker_endpoint" "this" {
  name                 = var.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this.name

  tags = var.tags
}

# For callers (application Lambdas, the gateway) that invoke the endpoint.
data "aws_iam_policy_document" "invoke" {
  statement {
    sid       = "InvokeEndpoint"
    actions   = ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"]
    resources = [local.endpoint_arn]
  }
}
