data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id

  token_auth = var.auth == "token"

  # The manager's declaration of this one endpoint (its configuration name is needed for CreateEndpoint).
  declared_endpoints = try(jsondecode(var.manager_environment["SLEEPWAKE_ENDPOINTS"]), {})
  endpoint_spec      = try(local.declared_endpoints[var.endpoint_name], null)

  # SageMaker lower-cases names in ARNs.
  endpoint_arn = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:endpoint/${lower(var.endpoint_name)}"
  # Every configuration the wake may create the endpoint from: the preferred one and its capacity fallbacks.
  endpoint_config_arns = [
    for c in try(local.endpoint_spec.configs, [{ endpoint_config_name = try(local.endpoint_spec.endpoint_config_name, "unknown") }]) :
    "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:endpoint-config/${lower(c.endpoint_config_name)}"
  ]
  # The fallback answer while the endpoint wakes (null: none).
  fallback_endpoint_arn = var.fallback_endpoint_name == null ? null : "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:endpoint/${lower(var.fallback_endpoint_name)}"
  notify_topic_arn      = try(var.manager_environment["SLEEPWAKE_NOTIFY_TOPIC_ARN"], "")
  cloudwatch_activity   = try(var.manager_environment["SLEEPWAKE_CLOUDWATCH_ACTIVITY"], "true") == "true"

  queue_name = "${var.name}-requests"
  # Built from names rather than resource attributes, so the DLQ's redrive-allow policy and the queue's
  # redrive policy do not depend on each other.
  queue_arn     = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.queue_name}"
  bucket_name   = "${var.name}-requests-${local.account_id}"
  log_level     = try(var.manager_environment["SLEEPWAKE_LOG_LEVEL"], "INFO")
  environment   = try(var.manager_environment["SLEEPWAKE_ENVIRONMENT"], "default")
  retention_sec = var.request_retention_days * 86400

  # API Gateway waits at most 30 s for an integration; the gateway answers (504) before that.
  gateway_timeout_seconds        = 29
  gateway_invoke_timeout_seconds = 24

  # The manager's settings, narrowed to this endpoint: the in-process manager service wakes exactly the
  # endpoint this gateway fronts (and its IAM allows no other). Fleet discovery is the manager's job.
  manager_settings = merge(var.manager_environment, {
    SLEEPWAKE_ENDPOINTS = jsonencode({ (var.endpoint_name) = local.endpoint_spec })
    SLEEPWAKE_FLEET_TAG = ""
  })

  request_settings = {
    SLEEPWAKE_GATEWAY_ENDPOINT       = var.endpoint_name
    SLEEPWAKE_REQUEST_QUEUE_URL      = aws_sqs_queue.requests.url
    SLEEPWAKE_REQUEST_BUCKET         = aws_s3_bucket.this.bucket
    SLEEPWAKE_MAX_LEASE_MINUTES      = tostring(var.max_lease_minutes)
    SLEEPWAKE_MAX_BODY_BYTES         = tostring(var.max_body_bytes)
    SLEEPWAKE_RESULT_URL_SECONDS     = tostring(var.result_url_expiry_seconds)
    SLEEPWAKE_REQUEST_RETENTION_DAYS = tostring(var.request_retention_days)
    SLEEPWAKE_MAX_RECEIVE_COUNT      = tostring(var.max_receive_count)
  }

  fallback_settings = var.fallback_endpoint_name == null ? {} : {
    SLEEPWAKE_FALLBACK_ENDPOINT   = var.fallback_endpoint_name
    SLEEPWAKE_FALLBACK_BY_DEFAULT = var.fallback_by_default ? "true" : "false"
  }

  # Every function of the module, by suffix. replay-control is its own resource (see below); the others share
  # one definition.
  function_names = toset(concat(["gateway", "replay", "replay-control"], local.token_auth ? ["authorizer"] : []))

  functions = merge(
    {
      gateway = {
        handler     = "sleepwake.handlers.gateway.handler"
        description = "Wake-aware inference gateway for ${var.endpoint_name}: invoke, queue, status, leases"
        timeout     = local.gateway_timeout_seconds
        memory      = var.lambda_memory_mb
        environment = merge(local.manager_settings, local.request_settings, local.fallback_settings, {
          SLEEPWAKE_INVOKE_TIMEOUT_SECONDS = tostring(local.gateway_invoke_timeout_seconds)
        })
      }
      replay = {
        handler     = "sleepwake.handlers.replay.handler"
        description = "Replays requests queued for ${var.endpoint_name} once it is InService"
        timeout     = var.replay.timeout_seconds
        memory      = var.lambda_memory_mb
        environment = merge(local.manager_settings, local.request_settings, {
          SLEEPWAKE_INVOKE_TIMEOUT_SECONDS = tostring(var.replay.invoke_timeout_seconds)
        })
      }
    },
    local.token_auth ? {
      authorizer = {
        handler     = "sleepwake.handlers.authorizer.handler"
        description = "Bearer-token authorizer of the ${var.name} inference API"
        timeout     = 10
        memory      = 128
        environment = {
          SLEEPWAKE_TOKENS_TABLE = aws_dynamodb_table.tokens[0].name
          SLEEPWAKE_ENVIRONMENT  = local.environment
          SLEEPWAKE_LOG_LEVEL    = local.log_level
        }
      }
    } : {},
  )
}

resource "aws_cloudwatch_log_group" "functions" {
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (log_retention_days, default 30 days); request logs older than that are rarely worth their storage.
  #checkov:skip=CKV_AWS_158:Logs are always encrypted; a customer managed key is used when kms_key_arn is given.
  for_each = local.function_names

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously (API Gateway: the gateway and the authorizer) or by an SQS event source mapping, whose queue has its own dead-letter queue; a function DLQ applies to asynchronous invocations only.
  #checkov:skip=CKV_AWS_117:The functions call only AWS APIs (SageMaker, DynamoDB, SQS, S3, Lambda); a VPC would add NAT or endpoint cost and no protection.
  #checkov:skip=CKV_AWS_173:Environment variables hold names and settings, no secrets (tokens live only as hashes in DynamoDB); they are encrypted at rest with the AWS managed key, or with kms_key_arn when given.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile and a signed artifact in S3; the zip is built reproducibly and deployed from the same pipeline.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded where it matters: API Gateway throttling for the gateway and the authorizer, the event source mapping's maximum_concurrency for the replay; reserving it would take from the account's pool.
  for_each = local.functions

  function_name = "${var.name}-${each.key}"
  description   = each.value.description
  role          = aws_iam_role.this[each.key].arn

  handler          = each.value.handler
  runtime          = var.runtime
  architectures    = var.architectures
  filename         = var.lambda_package.path
  source_code_hash = var.lambda_package.base64sha256

  memory_size = each.value.memory
  timeout     = each.value.timeout
  kms_key_arn = var.kms_key_arn

  environment {
    variables = each.value.environment
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  # The log group must exist before the first invocation (or Lambda creates one without retention), and
  # the role's permissions before the first request.
  depends_on = [
    aws_cloudwatch_log_group.functions,
    aws_iam_role_policy.this,
  ]

  lifecycle {
    precondition {
      condition     = local.endpoint_spec != null
      error_message = "The endpoint_name must be one of the endpoints in manager_environment.SLEEPWAKE_ENDPOINTS (the manager's declared endpoints): the gateway wakes it through the manager service."
    }

    precondition {
      # Lambda caps the whole environment at 4 KB.
      condition     = length(jsonencode(each.value.environment)) <= 4096
      error_message = "The function's environment exceeds Lambda's 4 KB: shorten the endpoint's tags in the manager's endpoints map."
    }
  }
}

# The replay switch is a resource of its own: its environment names the event source mapping, which in turn
# names the replay function, so sharing the block above would make a dependency cycle.
resource "aws_lambda_function" "replay_control" {
  #checkov:skip=CKV_AWS_116:Invoked by EventBridge; a lost event is repaired by the reconcile schedule, so a DLQ would only collect noise.
  #checkov:skip=CKV_AWS_117:Calls only AWS APIs (SageMaker DescribeEndpoint, Lambda event source mappings); a VPC would add cost and no protection.
  #checkov:skip=CKV_AWS_173:Environment variables hold names and settings, no secrets; encrypted at rest with the AWS managed key, or with kms_key_arn when given.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile and a signed artifact in S3; the zip is built reproducibly and deployed from the same pipeline.
  #checkov:skip=CKV_AWS_115:Invoked a few times an hour by EventBridge; every invocation reconciles to the same state, so concurrency needs no cap.
  function_name = "${var.name}-replay-control"
  description   = "Switches the replay of ${var.endpoint_name}'s queue on while it serves, off otherwise"
  role          = aws_iam_role.this["replay-control"].arn

  handler          = "sleepwake.handlers.replay_control.handler"
  runtime          = var.runtime
  architectures    = var.architectures
  filename         = var.lambda_package.path
  source_code_hash = var.lambda_package.base64sha256

  memory_size = 128
  timeout     = 30
  kms_key_arn = var.kms_key_arn

  environment {
    variables = {
      SLEEPWAKE_GATEWAY_ENDPOINT    = var.endpoint_name
      SLEEPWAKE_REPLAY_MAPPING_UUID = aws_lambda_event_source_mapping.replay.uuid
      SLEEPWAKE_ENVIRONMENT         = local.environment
      SLEEPWAKE_LOG_LEVEL           = local.log_level
    }
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.functions,
    aws_iam_role_policy.replay_control,
  ]
}

resource "aws_dynamodb_table" "tokens" {
  count = local.token_auth ? 1 : 0

  name         = "${var.name}-tokens"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  # Tokens with an expiry disappear some time after it; the authorizer refuses them from the exact second.
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

  deletion_protection_enabled = var.tokens_table_deletion_protection_enabled

  tags = var.tags
}
