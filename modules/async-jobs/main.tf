data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id

  table_name       = "${var.name}-async-state"
  input_bucket_arn = "arn:${local.partition}:s3:::${var.input_bucket_name}"
  endpoint_arn     = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:endpoint/${lower(var.endpoint_name)}"

  # The two functions differ only by handler, description and permissions.
  functions = {
    trigger = {
      handler     = "sleepwake.handlers.async_trigger.handler"
      description = "Submits inputs uploaded under s3://${var.input_bucket_name}/${var.input_prefix} to the async endpoint ${var.endpoint_name}, once per object version"
    }
    notify = {
      handler     = "sleepwake.handlers.async_notify.handler"
      description = "Records the results of the async endpoint ${var.endpoint_name} per input; keeps failed inputs under ${var.failed_prefix}"
    }
  }

  # The SLEEPWAKE_ASYNC_* contract of docs/architecture.md.
  lambda_environment = merge(
    {
      SLEEPWAKE_ASYNC_TABLE_NAME           = aws_dynamodb_table.this.name
      SLEEPWAKE_ASYNC_ENDPOINT_NAME        = var.endpoint_name
      SLEEPWAKE_ASYNC_INPUT_BUCKET         = var.input_bucket_name
      SLEEPWAKE_ASYNC_INPUT_PREFIX         = var.input_prefix
      SLEEPWAKE_ASYNC_FAILED_PREFIX        = var.failed_prefix
      SLEEPWAKE_ASYNC_DEFAULT_CONTENT_TYPE = var.default_content_type
      # A claim outlives the invocation that took it, so only a trigger that died leaves one to expire; Lambda's
      # retries of the S3 event (about 1 and 2 minutes later) then find it expired and take it over.
      SLEEPWAKE_ASYNC_CLAIM_SECONDS   = tostring(var.lambda_timeout_seconds + 30)
      SLEEPWAKE_ASYNC_RECORD_TTL_DAYS = tostring(var.record_ttl_days)
      SLEEPWAKE_ENVIRONMENT           = var.environment_name
      SLEEPWAKE_LOG_LEVEL             = var.log_level
    },
    var.request_ttl_seconds == null ? {} : { SLEEPWAKE_ASYNC_REQUEST_TTL_SECONDS = tostring(var.request_ttl_seconds) },
    var.invocation_timeout_seconds == null ? {} : { SLEEPWAKE_ASYNC_INVOCATION_TIMEOUT_SECONDS = tostring(var.invocation_timeout_seconds) },
  )
}

# One record per input version (`input#...`, see docs/architecture.md): the environment's state table in async
# mode. Named apart from the manager's `<name>-state` so that switching modes never clashes on a name.
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

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = var.table_deletion_protection_enabled

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (log_retention_days, default 30 days); the per-input record in the table is the lasting trace.
  #checkov:skip=CKV_AWS_158:Logs are always encrypted; a customer managed key is used when kms_key_arn is given.
  for_each = local.functions

  name              = "/aws/lambda/${var.name}-async-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

# Events Lambda gave up on (after its two retries) land here instead of being lost; redrive them to the
# function once the cause is fixed. The per-version record makes a redriven event as safe as a retry.
resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name}-async-dead-letter"
  message_retention_seconds = 1209600 # 14 days, the SQS maximum
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions call only AWS APIs (S3, DynamoDB, SageMaker runtime); a VPC would add NAT or endpoint cost and no protection.
  #checkov:skip=CKV_AWS_173:Environment variables hold names and settings, no secrets; they are encrypted at rest with the AWS managed key, or with kms_key_arn when given.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile and a signed artifact in S3; the zip is built reproducibly and deployed from the same pipeline.
  for_each = local.functions

  function_name = "${var.name}-async-${each.key}"
  description   = each.value.description
  role          = aws_iam_role.this[each.key].arn

  handler          = each.value.handler
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

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter.arn
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]
}

# S3 and SNS invoke both functions asynchronously. Spelled out because the exactly-once design counts on it:
# a raised error is retried twice, then the event goes to the dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "this" {
  for_each = local.functions

  function_name                = aws_lambda_function.this[each.key].function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name        = "${var.name}-async-dead-letters"
  alarm_description = "An upload or a result of the async endpoint ${var.endpoint_name} could not be processed after retries; see ${aws_sqs_queue.dead_letter.name}."

  namespace   = "AWS/SQS"
  metric_name = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.dead_letter.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = var.alarm_actions
  ok_actions    = var.alarm_actions

  tags = var.tags
}
