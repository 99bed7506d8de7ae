data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id

  # Same list as modules/realtime-endpoint: instance types with local NVMe storage reject a volume key.
  instance_store_families = ["c5d", "c6id", "g4dn", "g5", "g6", "g6e", "m5d", "m6id", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "r5d", "r6id"]
  has_instance_store      = contains(local.instance_store_families, split(".", var.instance_type)[1])

  endpoint_arn = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:endpoint/${lower(var.name)}"

  create_input_bucket  = var.input_bucket_name == null
  create_output_bucket = var.output_bucket_name == null
  input_bucket         = local.create_input_bucket ? aws_s3_bucket.inputs[0].id : var.input_bucket_name
  output_bucket        = local.create_output_bucket ? aws_s3_bucket.outputs[0].id : var.output_bucket_name
  input_bucket_arn     = "arn:${local.partition}:s3:::${local.input_bucket}"
  output_bucket_arn    = "arn:${local.partition}:s3:::${local.output_bucket}"
  output_path          = "s3://${local.output_bucket}/${var.output_prefix}"
  failure_path         = "s3://${local.output_bucket}/${var.failure_prefix}"

  success_topic_arn = var.success_topic_arn == null ? aws_sns_topic.success[0].arn : var.success_topic_arn
  error_topic_arn   = var.error_topic_arn == null ? aws_sns_topic.error[0].arn : var.error_topic_arn
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  # Immutable: a fresh name per change plus create_before_destroy rolls a change out as an UpdateEndpoint
  # (queued requests survive it) instead of failing on a name clash.
  name_prefix = "${substr(var.name, 0, 36)}-"
  kms_key_arn = var.volume_kms_key_arn

  production_variants {
    variant_name           = var.variant_name
    model_name             = var.model_name
    instance_type          = var.instance_type
    initial_instance_count = var.initial_instance_count

    container_startup_health_check_timeout_in_seconds = var.container_startup_health_check_timeout_in_seconds
  }

  async_inference_config {
    output_config {
      s3_output_path  = local.output_path
      s3_failure_path = local.failure_path
      kms_key_id      = var.kms_key_arn

      notification_config {
        success_topic = local.success_topic_arn
        error_topic   = local.error_topic_arn
      }
    }

    dynamic "client_config" {
      for_each = var.max_concurrent_invocations_per_instance == null ? [] : [var.max_concurrent_invocations_per_instance]

      content {
        max_concurrent_invocations_per_instance = client_config.value
      }
    }
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = !(local.has_instance_store && var.volume_kms_key_arn != null)
      error_message = "Instance type ${var.instance_type} has local NVMe storage: SageMaker rejects a volume key for it. Set volume_kms_key_arn = null (the instance store is encrypted by the hardware)."
    }
  }
}

# Terraform owns the async endpoint: it scales itself to zero instances (autoscaling.tf), so there is nothing
# for a sleep/wake manager to do. SageMaker needs initial_instance_count >= 1 to create it; the scale-in policy
# takes it to zero once the queue stays empty for the scale-in cooldown.
resource "aws_sagemaker_endpoint" "this" {
  name                 = var.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this.name

  tags = var.tags

  # SageMaker checks at creation that it can write the outputs and publish the notifications.
  depends_on = [aws_iam_role_policy.execution]
}
