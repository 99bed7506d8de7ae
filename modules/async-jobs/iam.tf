locals {
  kms_key_arns = var.kms_key_arn == null ? [] : [var.kms_key_arn]
  # Only `input#` records: the functions and applications touch nothing else in the table.
  input_record_keys = ["input#*"]
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

# Shared by both functions: their own log group, X-Ray, the input records, the dead-letter queue, the key.
data "aws_iam_policy_document" "common" {
  for_each = local.functions

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }

  statement {
    sid = "XRayTraces"
    # PutTraceSegments and PutTelemetryRecords have no resource-level permissions.
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }

  statement {
    sid       = "InputRecords"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.this.arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = local.input_record_keys
    }
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }

  dynamic "statement" {
    for_each = length(local.kms_key_arns) == 0 ? [] : [local.kms_key_arns]

    content {
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = statement.value
    }
  }
}

data "aws_iam_policy_document" "trigger" {
  source_policy_documents = [data.aws_iam_policy_document.common["trigger"].json]

  statement {
    sid = "ReadInputHeaders"
    # HeadObject (the input's content type) is authorised as GetObject / GetObjectVersion.
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.input_bucket_arn}/${var.input_prefix}*"]
  }

  statement {
    sid       = "SubmitInputs"
    actions   = ["sagemaker:InvokeEndpointAsync"]
    resources = [local.endpoint_arn]
  }
}

data "aws_iam_policy_document" "notify" {
  source_policy_documents = [data.aws_iam_policy_document.common["notify"].json]

  statement {
    sid       = "ReadFailedInputs"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"]
    resources = ["${local.input_bucket_arn}/${var.input_prefix}*"]
  }

  statement {
    sid = "KeepFailedInputsAside"
    # Copies and .error.json reports under the failed prefix; no DeleteObject anywhere.
    actions   = ["s3:PutObject", "s3:PutObjectTagging"]
    resources = ["${local.input_bucket_arn}/${var.failed_prefix}*"]
  }
}

resource "aws_iam_role" "this" {
  for_each = local.functions

  name                 = "${var.name}-async-${each.key}"
  description          = "Execution role of the async ${each.key} function of ${var.endpoint_name}"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.functions

  name   = "sleepwake-async-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = each.key == "trigger" ? data.aws_iam_policy_document.trigger.json : data.aws_iam_policy_document.notify.json
}

# For applications: upload inputs, read their status and their results. (sleepwake.asyncjobs.jobs.upload_input,
# status and read_output need exactly this.)
data "aws_iam_policy_document" "app" {
  statement {
    sid       = "UploadInputs"
    actions   = ["s3:PutObject"]
    resources = ["${local.input_bucket_arn}/${var.input_prefix}*"]
  }

  statement {
    sid       = "ReadResults"
    actions   = ["s3:GetObject"]
    resources = [for location in var.result_locations : "arn:${local.partition}:s3:::${trimprefix(location, "s3://")}*"]
  }

  statement {
    sid       = "ReadInputStatus"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.this.arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = local.input_record_keys
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
}
