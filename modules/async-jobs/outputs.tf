output "trigger_function_name" {
  description = "Name of the trigger function (S3 uploads -> InvokeEndpointAsync)."
  value       = aws_lambda_function.this["trigger"].function_name
}

output "trigger_function_arn" {
  description = "ARN of the trigger function."
  value       = aws_lambda_function.this["trigger"].arn
}

output "notify_function_name" {
  description = "Name of the notification function (SNS results -> per-input status)."
  value       = aws_lambda_function.this["notify"].function_name
}

output "notify_function_arn" {
  description = "ARN of the notification function."
  value       = aws_lambda_function.this["notify"].arn
}

output "table_name" {
  description = "Name of the state table holding the `input#` records; applications read statuses from it (SLEEPWAKE_ASYNC_TABLE_NAME)."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the state table."
  value       = aws_dynamodb_table.this.arn
}

output "dead_letter_queue_url" {
  description = "URL of the queue holding events the functions gave up on (redrive them after fixing the cause)."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "failed_prefix" {
  description = "Key prefix in the input bucket where failed inputs are kept with their error."
  value       = var.failed_prefix
}

output "app_policy_json" {
  description = "IAM policy document (JSON) for applications: put inputs under the input prefix, read results and failure payloads, read the `input#` status records."
  value       = data.aws_iam_policy_document.app.json
}

output "lambda_environment" {
  description = "The SLEEPWAKE_ASYNC_* environment of the functions; an application using sleepwake.asyncjobs.jobs needs SLEEPWAKE_ASYNC_TABLE_NAME from it."
  value       = local.lambda_environment
}
