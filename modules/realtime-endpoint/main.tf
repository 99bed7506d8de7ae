data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # Instance families whose instances come with local NVMe storage. SageMaker rejects a volume size
  # and a volume KMS key for them (their instance store is encrypted by the hardware).
  instance_store_families = ["c5d", "c6id", "g4dn", "g5", "g6", "g6e", "m5d", "m6id", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "r5d", "r6id"]
  instance_family         = split(".", var.instance_type)[1]
  has_instance_store      = contains(local.instance_store_families, local.instance_family)

  # SageMaker lower-cases names in ARNs; policies that match ARNs must do the same.
  endpoint_arn = "arn:${data.aws_partition.current.partition}:sagemaker:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:endpoint/${lower(var.name)}"
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  # Endpoint configurations are immutable. A fresh name per change plus create_before_destroy rolls a
  # change out as a new configuration instead of failing on a name clash (the provider's recommendation).
  # The provider appends 26 characters to the prefix and SageMaker allows 63 in all.
  name_prefix = "${substr(var.name, 0, 36)}-"
  kms_key_arn = var.kms_key_arn

  production_variants {
    variant_name                                      = var.variant_name
    model_name                                        = var.model_name
    instance_type                                     = var.instance_type
    initial_instance_count                            = var.initial_instance_count
    volume_size_in_gb                                 = var.volume_size_in_gb
    container_startup_health_check_timeout_in_seconds = var.container_startup_health_check_timeout_in_seconds
    model_data_download_timeout_in_seconds            = var.model_data_download_timeout_in_seconds
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = !(local.has_instance_store && var.kms_key_arn != null)
      error_message = "Instance type ${var.instance_type} has local NVMe storage: SageMaker rejects a volume kms_key_arn for it. Set kms_key_arn = null (the instance store is encrypted by the hardware)."
    }

    precondition {
      condition     = !(local.has_instance_store && var.volume_size_in_gb != null)
      error_message = "Instance type ${var.instance_type} has local NVMe storage: SageMaker rejects volume_size_in_gb for it. Set volume_size_in_gb = null."
    }
  }
}

# Capacity-aware wake: one more configuration per fallback instance type, same model and settings. The manager
# tries them in order when the preferred type has no capacity (or the account's limit for it is reached).
resource "aws_sagemaker_endpoint_configuration" "fallback" {
  for_each = toset(var.fallback_instance_types)

  name_prefix = "${substr(var.name, 0, 36)}-"
  kms_key_arn = var.kms_key_arn

  production_variants {
    variant_name                                      = var.variant_name
    model_name                                        = var.model_name
    instance_type                                     = each.value
    initial_instance_count                            = var.initial_instance_count
    volume_size_in_gb                                 = var.volume_size_in_gb
    container_startup_health_check_timeout_in_seconds = var.container_startup_health_check_timeout_in_seconds
    model_data_download_timeout_in_seconds            = var.model_data_download_timeout_in_seconds
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = !(contains(local.instance_store_families, split(".", each.value)[1]) && (var.kms_key_arn != null || var.volume_size_in_gb != null))
      error_message = "Fallback instance type ${each.value} has local NVMe storage: SageMaker rejects a volume kms_key_arn and volume_size_in_gb for it. Set both to null."
    }
  }
}

resource "aws_sagemaker_endpoint" "this" {
  count = var.create_endpoint ? 1 : 0

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
