locals {
  kms_key_arns = var.kms_key_arn == null ? [] : [var.kms_key_arn]
}

# What the model's execution role needs for async inference: read the inputs, write results and failures,
# publish the result notifications. Attached to execution_role_name when given (the role modules/sagemaker-model
# creates); callers with their own role attach `execution_policy_json` themselves.
data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "ReadInputs"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.input_bucket_arn}/${var.input_prefix}*"]
  }

  statement {
    sid       = "WriteResults"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${local.output_bucket_arn}/${var.output_prefix}*", "${local.output_bucket_arn}/${var.failure_prefix}*"]
  }

  statement {
    sid       = "ListIOBuckets"
    actions   = ["s3:ListBucket"]
    resources = distinct([local.input_bucket_arn, local.output_bucket_arn])

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.input_prefix}*", "${var.output_prefix}*", "${var.failure_prefix}*"]
    }
  }

  statement {
    sid       = "PublishResults"
    actions   = ["sns:Publish"]
    resources = distinct([local.success_topic_arn, local.error_topic_arn])
  }

  dynamic "statement" {
    for_each = length(local.kms_key_arns) == 0 ? [] : [local.kms_key_arns]

    content {
      sid       = "UseDataKey"
      actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  count = var.execution_role_name == null ? 0 : 1

  name   = "${var.name}-async-io"
  role   = var.execution_role_name
  policy = data.aws_iam_policy_document.execution.json
}

# For callers that submit requests themselves (InvokeEndpointAsync with an InputLocation they uploaded).
data "aws_iam_policy_document" "invoke" {
  statement {
    sid       = "InvokeAsyncEndpoint"
    actions   = ["sagemaker:InvokeEndpointAsync"]
    resources = [local.endpoint_arn]
  }
}
