# SageMaker publishes each async result to one of these topics: success (with the output location) or error
# (with the failure reason). Created unless the caller passes its own; encrypted with kms_key_arn or the AWS
# managed aws/sns key (SageMaker publishes with the execution role, so the managed key works).

resource "aws_sns_topic" "success" {
  count = var.success_topic_arn == null ? 1 : 0

  name              = "${var.name}-success"
  kms_master_key_id = var.kms_key_arn == null ? "alias/aws/sns" : var.kms_key_arn

  tags = var.tags
}

resource "aws_sns_topic" "error" {
  count = var.error_topic_arn == null ? 1 : 0

  name              = "${var.name}-error"
  kms_master_key_id = var.kms_key_arn == null ? "alias/aws/sns" : var.kms_key_arn

  tags = var.tags
}
