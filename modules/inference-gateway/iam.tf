locals {
  kms_key_arns = var.kms_key_arn == null ? [] : [var.kms_key_arn]

  # Each function's own policy; replay-control has its own resource (it names the event source mapping).
  policies = merge(
    {
      gateway = data.aws_iam_policy_document.gateway.json
      replay  = data.aws_iam_policy_document.replay.json
    },
    local.token_auth ? { authorizer = data.aws_iam_policy_document.authorizer[0].json } : {},
  )
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.function_names

  name                 = "${var.name}-${each.key}"
  description          = "Execution role of ${var.name}-${each.key} (inference gateway of ${var.endpoint_name})"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

# ---- shared by every function: its own logs, traces, and the module's key ------------------------------------
data "aws_iam_policy_document" "basics" {
  for_each = local.function_names

  statement {
    sid     = "WriteOwnLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    # ":*" covers the log streams of this one log group, which Lambda names per execution environment.
    resources = ["${aws_cloudwatch_log_group.functions[each.key].arn}:*"]
  }

  statement {
    sid     = "XRayTraces"
    actions = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    # X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions: "*" is the only
    # resource they accept.
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = length(local.kms_key_arns) == 0 ? [] : [local.kms_key_arns]

    content {
      # The queue, bucket, tables and logs are encrypted with this key when it is given.
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = statement.value
    }
  }
}

# ---- waking the endpoint: what the in-process manager service does, for this one endpoint ----------------------
data "aws_iam_policy_document" "wake" {
  statement {
    sid = "StateTable"
    # endpoint#<name> records (wake, lease, activity) and request#<id> records of queued requests.
    actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [var.state_table_arn]
  }

  statement {
    sid       = "ManageTheEndpoint"
    actions   = ["sagemaker:CreateEndpoint", "sagemaker:DeleteEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:ListTags"]
    resources = [local.endpoint_arn]
  }

  statement {
    # CreateEndpoint applies the endpoint's tags, which SageMaker authorises as AddTags; allowed only then.
    sid       = "TagTheEndpointOnCreate"
    actions   = ["sagemaker:AddTags"]
    resources = [local.endpoint_arn]

    condition {
      test     = "StringEquals"
      variable = "sagemaker:TaggingAction"
      values   = ["CreateEndpoint"]
    }
  }

  statement {
    # CreateEndpoint is authorised against the configuration too; DescribeEndpointConfig feeds the cost figures.
    sid       = "UseTheEndpointConfig"
    actions   = ["sagemaker:CreateEndpoint", "sagemaker:DescribeEndpointConfig"]
    resources = local.endpoint_config_arns
  }

  statement {
    sid       = "InvokeTheEndpoint"
    actions   = ["sagemaker:InvokeEndpoint"]
    resources = [local.endpoint_arn]
  }

  dynamic "statement" {
    for_each = local.cloudwatch_activity ? [1] : []

    content {
      # The manager service re-reads the endpoint's Invocations metric before any delete it decides.
      sid     = "ReadInvocationMetrics"
      actions = ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"]
      # CloudWatch's ListMetrics and GetMetricData have no resource-level permissions: "*" is the only
      # resource they accept. Read-only.
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.notify_topic_arn == "" ? [] : [local.notify_topic_arn]

    content {
      sid       = "PublishNotifications"
      actions   = ["sns:Publish"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(var.endpoint_kms_key_arns) == 0 ? [] : [var.endpoint_kms_key_arns]

    content {
      sid       = "GrantEndpointVolumeKeys"
      actions   = ["kms:CreateGrant", "kms:DescribeKey"]
      resources = statement.value

      # SageMaker creates the grant for the endpoint's instances; nothing else may use this permission.
      condition {
        test     = "Bool"
        variable = "kms:GrantIsForAWSResource"
        values   = ["true"]
      }
    }
  }
}

data "aws_iam_policy_document" "gateway" {
  source_policy_documents = [
    data.aws_iam_policy_document.basics["gateway"].json,
    data.aws_iam_policy_document.wake.json,
  ]

  dynamic "statement" {
    for_each = local.fallback_endpoint_arn == null ? [] : [local.fallback_endpoint_arn]

    content {
      # The fallback answer while the endpoint wakes: InvokeEndpoint on the fallback endpoint only (the gateway
      # function alone; the replay waits for the endpoint itself).
      sid       = "InvokeTheFallbackEndpoint"
      actions   = ["sagemaker:InvokeEndpoint"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "QueueRequests"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.requests.arn]
  }

  statement {
    sid     = "StoreBodiesAndLargeAnswers"
    actions = ["s3:PutObject"]
    # Objects are named by request id, unknown in advance: one prefix for bodies, one for results.
    resources = ["${aws_s3_bucket.this.arn}/requests/*", "${aws_s3_bucket.this.arn}/results/*"]
  }

  statement {
    sid     = "ReadResults"
    actions = ["s3:GetObject"]
    # Inline small results, and sign the pre-signed URLs callers fetch results with (those use this permission).
    resources = ["${aws_s3_bucket.this.arn}/results/*"]
  }
}

data "aws_iam_policy_document" "replay" {
  source_policy_documents = [
    data.aws_iam_policy_document.basics["replay"].json,
    data.aws_iam_policy_document.wake.json,
  ]

  statement {
    sid       = "ConsumeRequests"
    actions   = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    resources = [aws_sqs_queue.requests.arn]
  }

  statement {
    sid     = "ReadAndRemoveBodies"
    actions = ["s3:DeleteObject", "s3:GetObject"]
    # Bodies are named by request id, unknown in advance.
    resources = ["${aws_s3_bucket.this.arn}/requests/*"]
  }

  statement {
    sid     = "WriteResults"
    actions = ["s3:PutObject"]
    # Results are named by request id, unknown in advance.
    resources = ["${aws_s3_bucket.this.arn}/results/*"]
  }
}

data "aws_iam_policy_document" "authorizer" {
  count = local.token_auth ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.basics["authorizer"].json]

  statement {
    # Looks a token's hash up; never writes.
    sid       = "LookUpTokenHashes"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.tokens[0].arn]
  }
}

data "aws_iam_policy_document" "replay_control" {
  source_policy_documents = [data.aws_iam_policy_document.basics["replay-control"].json]

  statement {
    sid       = "ReadTheEndpointStatus"
    actions   = ["sagemaker:DescribeEndpoint"]
    resources = [local.endpoint_arn]
  }

  statement {
    sid       = "SwitchTheReplay"
    actions   = ["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"]
    resources = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:event-source-mapping:${aws_lambda_event_source_mapping.replay.uuid}"]
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.policies

  name   = "sleepwake-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = each.value
}

resource "aws_iam_role_policy" "replay_control" {
  name   = "sleepwake-replay-control"
  role   = aws_iam_role.this["replay-control"].id
  policy = data.aws_iam_policy_document.replay_control.json
}

# ---- for application code ------------------------------------------------------------------------------------
# IAM auth: execute-api:Invoke on this API's routes. Direct calls (sleepwake_client.client without the gateway): the
# endpoint itself. With token auth only the token matters; the policy is still harmless to attach.
data "aws_iam_policy_document" "invoke" {
  statement {
    sid       = "CallTheInferenceApi"
    actions   = ["execute-api:Invoke"]
    resources = local.route_arns
  }

  statement {
    sid       = "InvokeTheEndpointDirectly"
    actions   = ["sagemaker:InvokeEndpoint"]
    resources = [local.endpoint_arn]
  }
}

resource "aws_iam_policy" "invoke" {
  name        = "${var.name}-inference-api-invoke"
  description = "Call the ${var.name} inference API (IAM auth) and invoke ${var.endpoint_name} directly"
  policy      = data.aws_iam_policy_document.invoke.json

  tags = var.tags
}
