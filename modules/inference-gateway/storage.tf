# ---- the request queue: durable until replayed, then a dead-letter queue ---------------------------------------

resource "aws_sqs_queue" "dlq" {
  name                      = "${local.queue_name}-dlq"
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to look at a failure and redrive it

  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 3600

  # Only the request queue may use this one as its dead-letter queue.
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [local.queue_arn]
  })

  tags = var.tags
}

resource "aws_sqs_queue" "requests" {
  name = local.queue_name

  # AWS's advice for queues feeding Lambda: at least six times the function timeout, so a message is not
  # offered again while a replay (and Lambda's own retries of the batch) may still be working on it.
  visibility_timeout_seconds = 6 * var.replay.timeout_seconds
  message_retention_seconds  = local.retention_sec
  receive_wait_time_seconds  = 20

  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 3600

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

# Created disabled: the replay switch enables it while the endpoint is InService, so queued requests wait in
# SQS (no receives, no cost) while it sleeps or wakes. Terraform leaves `enabled` to the switch afterwards.
resource "aws_lambda_event_source_mapping" "replay" {
  event_source_arn        = aws_sqs_queue.requests.arn
  function_name           = aws_lambda_function.this["replay"].arn
  enabled                 = false
  batch_size              = var.replay.batch_size
  function_response_types = ["ReportBatchItemFailures"]

  # A GPU endpoint serves a few requests at a time: do not let a backlog open hundreds of invocations.
  scaling_config {
    maximum_concurrency = var.replay.max_concurrency
  }

  lifecycle {
    ignore_changes = [enabled]
  }

  depends_on = [aws_iam_role_policy.this]
}

# ---- bodies too large for SQS, and results ----------------------------------------------------------------------

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Access logging would need a second bucket; every object is written and read by this module's functions, whose actions are in their logs and CloudTrail.
  #checkov:skip=CKV_AWS_21:Objects are short-lived request bodies and results that expire after request_retention_days; versions would only keep them longer.
  #checkov:skip=CKV_AWS_144:Cross-region replication of temporary request data buys nothing; a lost result is replayed from the dead-letter queue or requested again.
  #checkov:skip=CKV2_AWS_62:No consumer of object events: results are read through GET /requests/{id}.
  #checkov:skip=CKV_AWS_145:Encrypted at rest always: SSE-S3 by default, SSE-KMS with kms_key_arn when given (a customer managed key is the caller's choice).
  bucket        = local.bucket_name
  force_destroy = var.bucket_force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-requests-and-results"
    status = "Enabled"

    filter {}

    expiration {
      days = var.request_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
