# The input and output buckets, created unless the caller passes its own (input_bucket_name /
# output_bucket_name). Created buckets: public access blocked, ACLs off, SSE-KMS (kms_key_arn, or the AWS
# managed aws/s3 key) with bucket keys, TLS-only policy; inputs versioned (a re-upload never loses the input a
# job ran on), outputs expiring after output_expiration_days.

locals {
  # bucket_prefix allows 37 characters; S3 appends 26. Bucket names are lower case.
  bucket_prefix_base = lower(substr(var.name, 0, 28))

  # Keys known at plan time (for_each needs them); the bucket IDs are not.
  created_bucket_keys = concat(local.create_input_bucket ? ["inputs"] : [], local.create_output_bucket ? ["outputs"] : [])
}

resource "aws_s3_bucket" "inputs" {
  #checkov:skip=CKV_AWS_18:Server access logs need a separate log bucket the caller owns; CloudTrail S3 data events are the better audit trail for a job queue and are account-wide.
  #checkov:skip=CKV_AWS_144:Inputs are working data of one region's endpoint; cross-region replication would double storage for nothing the endpoint can use.
  #checkov:skip=CKV2_AWS_62:The event notification that submits uploads lives in modules/async-jobs (aws_s3_bucket_notification), which takes this bucket as an input.
  count = local.create_input_bucket ? 1 : 0

  bucket_prefix = "${local.bucket_prefix_base}-in-"
  force_destroy = var.force_destroy_buckets

  tags = var.tags
}

resource "aws_s3_bucket" "outputs" {
  #checkov:skip=CKV_AWS_18:Server access logs need a separate log bucket the caller owns; CloudTrail S3 data events are the better audit trail and are account-wide.
  #checkov:skip=CKV_AWS_144:Outputs expire after output_expiration_days; replicating short-lived results to another region buys nothing.
  #checkov:skip=CKV_AWS_21:SageMaker writes each result once under a fresh name (the inference id) and results expire; versions would only keep deleted results longer.
  #checkov:skip=CKV2_AWS_62:Results are announced by SageMaker's SNS success and error topics, not by S3 events.
  count = local.create_output_bucket ? 1 : 0

  bucket_prefix = "${local.bucket_prefix_base}-out-"
  force_destroy = var.force_destroy_buckets

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = toset(local.created_bucket_keys)

  bucket                  = each.key == "inputs" ? aws_s3_bucket.inputs[0].id : aws_s3_bucket.outputs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = toset(local.created_bucket_keys)

  bucket = each.key == "inputs" ? aws_s3_bucket.inputs[0].id : aws_s3_bucket.outputs[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = toset(local.created_bucket_keys)

  bucket = each.key == "inputs" ? aws_s3_bucket.inputs[0].id : aws_s3_bucket.outputs[0].id

  rule {
    # A bucket key cuts the KMS requests (and their cost) per object to about one per bucket and hour.
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_versioning" "inputs" {
  count = local.create_input_bucket ? 1 : 0

  bucket = aws_s3_bucket.inputs[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "inputs" {
  count = local.create_input_bucket ? 1 : 0

  bucket = aws_s3_bucket.inputs[0].id

  rule {
    id     = "inputs"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }

    # Overwritten or deleted inputs stay recoverable this long.
    noncurrent_version_expiration {
      noncurrent_days = var.input_noncurrent_version_expiration_days
    }

    dynamic "expiration" {
      for_each = var.input_expiration_days == null ? [] : [var.input_expiration_days]

      content {
        days = expiration.value
      }
    }
  }

  # The rule applies to versions that exist before it; make sure versioning is on first.
  depends_on = [aws_s3_bucket_versioning.inputs]
}

resource "aws_s3_bucket_lifecycle_configuration" "outputs" {
  count = local.create_output_bucket ? 1 : 0

  bucket = aws_s3_bucket.outputs[0].id

  rule {
    id     = "results"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }

    expiration {
      days = var.output_expiration_days
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = toset(local.created_bucket_keys)

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.key == "inputs" ? aws_s3_bucket.inputs[0].arn : aws_s3_bucket.outputs[0].arn,
      "${each.key == "inputs" ? aws_s3_bucket.inputs[0].arn : aws_s3_bucket.outputs[0].arn}/*",
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
  for_each = toset(local.created_bucket_keys)

  bucket = each.key == "inputs" ? aws_s3_bucket.inputs[0].id : aws_s3_bucket.outputs[0].id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  # S3 rejects a bucket policy while the public access block is being set up.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
