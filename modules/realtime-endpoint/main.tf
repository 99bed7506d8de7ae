data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # Instance families whose instances come with local NVMe storage. SageMaker rejects a volume size
  # and a volume KMS key for them (their instance store is encrypted by the hardware).
  instance_store_families = ["c5d", "c6id", "g4dn", "g5", "g6", "g6e", "m5d", "m6id", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "r5d", "r6id"]
  # The configurations, by key, and the order the manager tries them: "preferred", then the fallbacks.
  configurations = merge({ preferred = var.instance_type }, { for t in var.fallback_instance_types : t => t })
  config_keys    = concat(["preferred"], var.fallback_instance_types)

  # SageMaker lower-cases names in ARNs; policies that match ARNs must do the same.
  endpoint_arn = "arn:${data.aws_partition.current.partition}:sagemaker:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:endpoint/${lower(var.name)}"
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  # One configuration per instance type the manager may wake on: "preferred" (`instance_type`), then each of
  # `fallback_instance_types` (capacity-aware wake: tried in order when the preferred type has no capacity or the
  # account's limit for it is reached). Same model and settings; each costs nothing until used.
  for_each = local.configurations

  # Endpoint configurations are immutable. A fresh name per change plus create_before_destroy rolls a
  # change out as a new configuration instead of failing on a name clash (the provider's recommendation).
  # The provider appends 26 characters to the prefix and SageMaker allows 63 in all.
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
      condition     = !(contains(local.instance_store_families, split(".", each.value)[1]) && var.kms_key_arn != null)
      error_message = "Instance type ${each.value} has local NVMe storage: SageMaker rejects a volume kms_key_arn for it. Set kms_key_arn = null (the instance store is encrypted by the hardware)."
    }

    precondition {
      condition     = !(contains(local.instance_store_families, split(".", each.value)[1]) && var.volume_size_in_gb != null)
      error_message = "Instance type ${each.value} has local NVMe storage: SageMaker rejects volume_size_in_gb for it. Set volume_size_in_gb = null."
    }
  }
}

# The configuration was a single resource before capacity-aware wake: it is the "preferred" one now.
moved {
  from = aws_sagemaker_endpoint_configuration.this
  to   = aws_sagemaker_endpoint_configuration.this["preferred"]
}

resource "aws_sagemaker_endpoint" "this" {
  count = var.create_endpoint ? 1 : 0

  name                 = var.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this["preferred"].name

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
