locals {
  # SageMaker lower-cases names in ARNs, so policies built from names must do the same.
  managed_endpoint_arns = [
    for name in sort(keys(var.endpoints)) :
    "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:endpoint/${lower(name)}"
  ]
  # Every configuration a declared endpoint may be created from: the preferred one and its capacity fallbacks.
  managed_endpoint_config_arns = distinct(flatten([
    for name in sort(keys(var.endpoints)) : [
      for config in concat([var.endpoints[name].endpoint_config_name], [for c in var.endpoints[name].fallback_configs : c.endpoint_config_name]) :
      "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:endpoint-config/${lower(config)}"
    ]
  ]))

  kms_key_arns = var.kms_key_arn == null ? [] : [var.kms_key_arn]

  # Prefix of every SageMaker ARN of this account and region. Fleet statements append "endpoint/*" or
  # "endpoint-config/*" to it in place, so each wildcard sits next to the comment that justifies it.
  sagemaker_arn_prefix = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"
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
    sid     = "WriteOwnLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    # ":*" covers the log streams of this one log group, which Lambda names per execution environment
    # (not known in advance).
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid     = "XRayTraces"
    actions = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    # X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions: "*" is the
    # only resource they accept.
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
    sid = "ListEndpointStatuses"
    # Each tick reads every endpoint's status from ListEndpoints (100 a page) instead of describing each
    # endpoint: one call per hundred endpoints. Read-only; it returns names, statuses and times.
    actions = ["sagemaker:ListEndpoints"]
    # ListEndpoints is a List action without resource-level permissions: "*" is the only resource it accepts.
    resources = ["*"]
  }

  dynamic "statement" {
    # Declared endpoints: exact ARNs (lower-cased, as SageMaker writes names in ARNs).
    for_each = length(local.managed_endpoint_arns) == 0 ? [] : [local.managed_endpoint_arns]

    content {
      sid = "ManageDeclaredEndpoints"
      actions = [
        "sagemaker:CreateEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:DescribeEndpoint",
        "sagemaker:ListTags",
      ]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(local.managed_endpoint_arns) == 0 ? [] : [local.managed_endpoint_arns]

    content {
      # CreateEndpoint applies the endpoint's tags, which SageMaker authorises as AddTags. The manager never
      # tags anything by itself: AddTags is allowed only as part of CreateEndpoint.
      sid       = "TagDeclaredEndpointsOnCreate"
      actions   = ["sagemaker:AddTags"]
      resources = statement.value

      condition {
        test     = "StringEquals"
        variable = "sagemaker:TaggingAction"
        values   = ["CreateEndpoint"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(local.managed_endpoint_config_arns) == 0 ? [] : [local.managed_endpoint_config_arns]

    content {
      # CreateEndpoint is authorised against both the endpoint and the configuration it is created from;
      # DescribeEndpointConfig reads the instance type and count for the cost estimate.
      sid       = "UseDeclaredEndpointConfigs"
      actions   = ["sagemaker:CreateEndpoint", "sagemaker:DescribeEndpointConfig"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = var.cloudwatch_activity ? [1] : []

    content {
      # Activity without code changes: the AWS/SageMaker Invocations metric of every variant, found with
      # ListMetrics (500 a page) and read with GetMetricData (500 queries a call). Read-only.
      sid     = "ReadInvocationMetrics"
      actions = ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"]
      # CloudWatch's ListMetrics and GetMetricData have no resource-level permissions and no condition key
      # that selects a namespace: "*" is the only resource they accept.
      resources = ["*"]
    }
  }

  # ---- fleet mode: endpoints opted in by tag --------------------------------------------------------------
  # Their names are not known at plan time, so the endpoint ARNs are wildcards of this account and region.
  # What keeps the manager off endpoints that are not opted in is IAM itself: deleting needs the opt-in tag
  # on the endpoint, creating needs it in the request.

  dynamic "statement" {
    for_each = var.fleet == null ? [] : [var.fleet]

    content {
      sid     = "DiscoverOptedInEndpoints"
      actions = ["tag:GetResources"]
      # The Resource Groups Tagging API's GetResources has no resource-level permissions: "*" is the only
      # resource it accepts. The manager asks it only for sagemaker:endpoint resources with the opt-in tag.
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.fleet == null ? [] : [var.fleet]

    content {
      # Before a delete the manager reads the endpoint's status and tags again. No tag condition here on
      # purpose: an owner who removes the opt-in tag must still be readable, or the manager could not notice
      # that the tag is gone (and state-change events of untagged endpoints could not be told apart).
      sid     = "ReadEndpoints"
      actions = ["sagemaker:DescribeEndpoint", "sagemaker:ListTags"]
      # Every endpoint of this account and region: read-only, and the opted-in ones are known only at run time.
      resources = ["${local.sagemaker_arn_prefix}:endpoint/*"]
    }
  }

  dynamic "statement" {
    for_each = var.fleet == null ? [] : [var.fleet]

    content {
      # The instance type and count of a fleet endpoint's configuration, for the cost in status and
      # notifications. Read-only.
      sid     = "ReadEndpointConfigs"
      actions = ["sagemaker:DescribeEndpointConfig"]
      # Every endpoint configuration of this account and region: fleet endpoints' configurations are learnt
      # at run time, and configurations do not carry the endpoint's opt-in tag.
      resources = ["${local.sagemaker_arn_prefix}:endpoint-config/*"]
    }
  }

  dynamic "statement" {
    for_each = var.fleet == null ? [] : [var.fleet]

    content {
      sid     = "DeleteOptedInEndpoints"
      actions = ["sagemaker:DeleteEndpoint"]
      # Any endpoint of this account and region, but only while it carries the opt-in tag (condition below):
      # IAM itself refuses to delete an endpoint that is not opted in. Deleting an endpoint never deletes its
      # configuration or model, and no permission here could.
      resources = ["${local.sagemaker_arn_prefix}:endpoint/*"]

      condition {
        test     = "StringEquals"
        variable = "aws:ResourceTag/${statement.value.tag_key}"
        values   = [statement.value.tag_value]
      }
    }
  }

  dynamic "statement" {
    for_each = var.fleet == null ? [] : [var.fleet]

    content {
      # Waking a fleet endpoint recreates it with its name and its own tags, which always include the opt-in
      # tag: a create without that tag in the request is refused.
      sid     = "RecreateOptedInEndpoints"
      actions = ["sagemaker:CreateEndpoint"]
      # Any endpoint name of this account and region, only with the opt-in tag in the request (condition below).
      resources = ["${local.sagemaker_arn_prefix}:endpoint/*"]

      condition {
        test     = "StringEquals"
        variable = "aws:RequestTag/${statement.value.tag_key}"
        values   = [statement.value.tag_value]
      }
    }
  }

  dynamic "statement" {
    for_each = var.fleet == null ? [] : [var.fleet]

    content {
      # The tags passed to CreateEndpoint are authorised as AddTags. Allowed only as part of CreateEndpoint
      # (sagemaker:TaggingAction) and only with the opt-in tag in the request, so the manager can neither tag
      # an existing endpoint nor opt one in. A separate statement from CreateEndpoint because
      # sagemaker:TaggingAction exists only in the AddTags request context.
      sid     = "TagOptedInEndpointsOnCreate"
      actions = ["sagemaker:AddTags"]
      # Any endpoint name of this account and region, only while it is being created with the opt-in tag
      # (conditions below).
      resources = ["${local.sagemaker_arn_prefix}:endpoint/*"]

      condition {
        test     = "StringEquals"
        variable = "aws:RequestTag/${statement.value.tag_key}"
        values   = [statement.value.tag_value]
      }

      condition {
        test     = "StringEquals"
        variable = "sagemaker:TaggingAction"
        values   = ["CreateEndpoint"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.fleet == null ? [] : [var.fleet]

    content {
      # CreateEndpoint is also authorised against the configuration it is created from. The configuration
      # cannot be conditioned on the endpoint's opt-in tag (it is a different resource with its own tags, and
      # the request tags are documented for the resource being created), and a fleet endpoint's configuration
      # is only known at run time. This grants nothing alone: the same call must also pass the tag-conditioned
      # RecreateOptedInEndpoints statement for the endpoint.
      sid     = "RecreateFromAnyEndpointConfig"
      actions = ["sagemaker:CreateEndpoint"]
      # Every endpoint configuration of this account and region, for CreateEndpoint only (see above).
      resources = ["${local.sagemaker_arn_prefix}:endpoint-config/*"]
    }
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

# For application code that records its requests (sleepwake.manager.activity.ActivityRecorder, sleepwake_client.client): it may
# mark a request in flight (`busy_until`, refused while `deleting_since` is set: hence the read of that one
# attribute), move `last_activity` forward and add to `request_count` on the records of the managed endpoints,
# and touch nothing else in the table. In fleet mode the
# opted-in names are only known at run time, so any `endpoint#` record may be touched (still only those
# three attributes); a record of an endpoint that is neither declared nor opted in is ignored by the manager.
data "aws_iam_policy_document" "record_activity" {
  statement {
    sid       = "RecordEndpointActivity"
    actions   = ["dynamodb:UpdateItem", "dynamodb:GetItem"]
    resources = [aws_dynamodb_table.this.arn]

    condition {
      # StringLike: endpoint names cannot contain * or ?, so declared names still match exactly.
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = concat([for name in sort(keys(var.endpoints)) : "endpoint#${name}"], local.fleet_enabled ? ["endpoint#*"] : [])
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:Attributes"
      values   = ["pk", "endpoint_name", "last_activity", "busy_until", "deleting_since", "request_count"]
    }
  }
}
