# Uploads under the input prefix -> the trigger. This resource owns the bucket's whole notification
# configuration (S3 keeps one per bucket): a bucket passed in must not have notifications managed elsewhere.
resource "aws_s3_bucket_notification" "inputs" {
  bucket = var.input_bucket_name

  lambda_function {
    id                  = "sleepwake-async-inputs"
    lambda_function_arn = aws_lambda_function.this["trigger"].arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = var.input_prefix
  }

  depends_on = [aws_lambda_permission.s3]
}

resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowInputBucketInvoke"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["trigger"].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = local.input_bucket_arn
  source_account = local.account_id
}

# SageMaker's success and error notifications -> the notification handler.
locals {
  result_topics = {
    success = var.success_topic_arn
    error   = var.error_topic_arn
  }
}

resource "aws_sns_topic_subscription" "results" {
  for_each = local.result_topics

  topic_arn = each.value
  protocol  = "lambda"
  endpoint  = aws_lambda_function.this["notify"].arn
}

resource "aws_lambda_permission" "sns" {
  for_each = local.result_topics

  statement_id  = "AllowResultTopicInvoke-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["notify"].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = each.value
}
