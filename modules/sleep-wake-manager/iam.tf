locals {
  # SageMaker lower-cases names in ARNs, so policies built from names must do the same.
  managed_endpoint_arns = [
    for name in sort(keys(var.endpoints)) :
    "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:endpoint/${lower(name)}"
  ]
  managed_endpoint_config_arns = distinct([
    for name in sort(keys(var.endpoints)) :
    "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:endpoint-config/${lower(var.endpoints[name].endpoint_config_name)}"
  ])

  kms_key_arns = var.kms_key_arn == null ? [] : [var.kms_key_arn]
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

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid = "XRayTraces"
    # X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions: "*" is the
    # only resource they accept.
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }

  statement {
    sid = "StateTable"
    actions = [
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:UpdateItem",
    ]
    resources = [aws_dynamodb_table.this.arn]
  }

  statement {
    sid = "ManageEndpoints"
    # AddTags is needed because CreateEndpoint applies the endpoint's tags.
    actions = [
      "sagemaker:AddTags",
      "sagemaker:CreateEndpoint",
      "sagemaker:DeleteEndpoint",
      "sagemaker:DescribeEndpoint",
      "sagemaker:ListTags",
    ]
    resources = local.managed_endpoint_arns
  }

  statement {
    sid = "CreateFromEndpointConfigs"
    # CreateEndpoint is authorised against both the endpoint and the configuration it is created from.
    actions   = ["sagemaker:CreateEndpoint"]
    resources = local.managed_endpoint_config_arns
  }

  dynamic "statement" {
    # A dynamic block rather than count: the topic ARN may be unknown until apply.
    for_each = local.notification_topic_arn == null ? [] : [local.notification_topic_arn]

    content {
      sid       = "PublishNotifications"
      actions   = ["sns:Publish"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(local.kms_key_arns) == 0 ? [] : [local.kms_key_arns]

    content {
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = statement.value
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

resource "aws_iam_role" "this" {
  name                 = local.function_name
  description          = "Execution role of the sleep/wake manager ${local.function_name}"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "sleepwake-manager"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# For callers (application Lambdas, CI jobs) that wake endpoints or ask for their status.
data "aws_iam_policy_document" "invoke_manager" {
  statement {
    sid       = "InvokeSleepWakeManager"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn]
  }
}

# For application code that calls sleepwake.activity.record_activity(): it may move `last_activity`
# forward on the records of the managed endpoints, and touch nothing else in the table.
data "aws_iam_policy_document" "record_activity" {
  statement {
    sid       = "RecordEndpointActivity"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.this.arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = [for name in keys(var.endpoints) : "endpoint#${name}"]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:Attributes"
      values   = ["pk", "last_activity", "endpoint_name"]
    }
  }
}
