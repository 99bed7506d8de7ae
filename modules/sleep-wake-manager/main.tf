data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id

  function_name  = "${var.name}-manager"
  log_group_name = "/aws/lambda/${local.function_name}"
  table_name     = "${var.name}-state"

  notification_topic_arn = var.create_notification_topic ? aws_sns_topic.this[0].arn : var.notification_topic_arn

  fleet_enabled = var.fleet != null

  # SLEEPWAKE_ENDPOINTS, in the shape docs/architecture.md fixes. keep_warm is left out when unset (the
  # settings parser treats a missing one as "no schedule"), which also keeps the JSON short.
  endpoints_json = jsonencode({
    for name, endpoint in var.endpoints : name => merge(
      {
        endpoint_config_name = endpoint.endpoint_config_name
        instance_type        = endpoint.instance_type
        instance_count       = endpoint.instance_count
        protected            = endpoint.protected
        tags                 = endpoint.tags
      },
      endpoint.keep_warm == null ? {} : { keep_warm = endpoint.keep_warm },
      # Capacity-aware wake: the ordered list, the preferred configuration first (only when there is a fallback).
      length(endpoint.fallback_configs) == 0 ? {} : {
        configs = concat(
          [{ endpoint_config_name = endpoint.endpoint_config_name, instance_type = endpoint.instance_type }],
          [for c in endpoint.fallback_configs : { endpoint_config_name = c.endpoint_config_name, instance_type = c.instance_type }],
        )
      },
    )
  })

  lambda_environment = {
    SLEEPWAKE_TABLE_NAME                 = aws_dynamodb_table.this.name
    SLEEPWAKE_ENDPOINTS                  = local.endpoints_json
    SLEEPWAKE_FLEET_TAG                  = local.fleet_enabled ? "${var.fleet.tag_key}=${var.fleet.tag_value}" : ""
    SLEEPWAKE_KEEP_WARM_TAG_KEY          = local.fleet_enabled ? var.fleet.keep_warm_tag_key : "sleepwake:keep-warm"
    SLEEPWAKE_CLOUDWATCH_ACTIVITY        = var.cloudwatch_activity ? "true" : "false"
    SLEEPWAKE_IDLE_TIMEOUT_SECONDS       = tostring(var.idle_timeout_minutes * 60)
    SLEEPWAKE_MIN_IN_SERVICE_SECONDS     = tostring(var.min_in_service_minutes * 60)
    SLEEPWAKE_POLICY                     = var.policy
    SLEEPWAKE_COLD_START_PENALTY_SECONDS = var.cold_start_penalty_seconds == null ? "" : tostring(var.cold_start_penalty_seconds)
    SLEEPWAKE_WAKE_ESTIMATE_SECONDS      = tostring(var.wake_estimate_seconds)
    SLEEPWAKE_FAILURE_BACKOFF_SECONDS    = tostring(var.failure_backoff_seconds)
    SLEEPWAKE_MAX_FAILURE_RETRIES        = tostring(var.max_failure_retries)
    SLEEPWAKE_PROTECTED                  = var.protected ? "true" : "false"
    SLEEPWAKE_PROTECT_TAG_KEY            = var.protect_tag_key
    SLEEPWAKE_NOTIFY_TOPIC_ARN           = local.notification_topic_arn == null ? "" : local.notification_topic_arn
    SLEEPWAKE_ENVIRONMENT                = var.environment_name
    SLEEPWAKE_LOG_LEVEL                  = var.log_level
    SLEEPWAKE_MAX_DELETES_PER_TICK       = tostring(local.fleet_enabled ? var.fleet.max_deletes_per_tick : 10)
    SLEEPWAKE_HOURLY_PRICE_OVERRIDES     = length(var.hourly_price_overrides) == 0 ? "" : jsonencode(var.hourly_price_overrides)
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (log_retention_days, default 30 days); a year of manager logs buys little.
  #checkov:skip=CKV_AWS_158:Logs are always encrypted; a customer managed key is used when kms_key_arn is given.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked by EventBridge and by callers synchronously; a lost scheduled event is repaired by the next tick, so a DLQ would only collect noise.
  #checkov:skip=CKV_AWS_117:Control-plane function that calls only AWS APIs (SageMaker, DynamoDB, SNS); a VPC would add NAT or endpoint cost and no protection.
  #checkov:skip=CKV_AWS_173:Environment variables hold names and settings, no secrets; they are encrypted at rest with the AWS managed key, or with kms_key_arn when given.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile and a signed artifact in S3; the zip is built reproducibly and deployed from the same pipeline.
  function_name = local.function_name
  description   = "Sleep/wake manager: creates SageMaker endpoints on demand and deletes them after idle"
  role          = aws_iam_role.this.arn

  handler          = "sleepwake.handlers.manager.handler"
  runtime          = var.runtime
  architectures    = var.architectures
  filename         = var.lambda_package.path
  source_code_hash = var.lambda_package.base64sha256

  memory_size                    = var.lambda_memory_mb
  timeout                        = var.lambda_timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.lambda_environment
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  # The log group must exist before the first invocation (or Lambda creates one without retention),
  # and the role's permissions before the first scheduled tick.
  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]

  lifecycle {
    precondition {
      # Lambda caps the whole environment at 4 KB; the endpoints map is by far its largest part.
      condition     = length(local.endpoints_json) <= 3072
      error_message = "The endpoints map encodes to more than 3 KB of JSON; Lambda allows 4 KB of environment in all. Trim endpoint tags or split the endpoints across managers."
    }
  }
}

resource "aws_dynamodb_table" "this" {
  name         = local.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  # Without a key ARN DynamoDB uses the AWS managed key (aws/dynamodb) rather than its own key.
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = var.table_deletion_protection_enabled

  tags = var.tags
}

resource "aws_sns_topic" "this" {
  count = var.create_notification_topic ? 1 : 0

  name              = "${var.name}-notifications"
  kms_master_key_id = var.kms_key_arn == null ? "alias/aws/sns" : var.kms_key_arn

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.notification_topic_arn == null
      error_message = "Set either notification_topic_arn or create_notification_topic, not both."
    }
  }
}
