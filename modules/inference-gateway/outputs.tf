output "api_url" {
  description = "Base URL of the inference API (no trailing slash): POST <api_url>/invoke, GET <api_url>/status, ..."
  value       = trimsuffix(aws_apigatewayv2_stage.this.invoke_url, "/")
}

output "api_id" {
  description = "ID of the HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "api_execution_arn" {
  description = "Execution ARN of the HTTP API (prefix of the execute-api ARNs IAM callers are allowed on)."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "auth" {
  description = "How callers authenticate: token or iam."
  value       = var.auth
}

output "endpoint_name" {
  description = "The SageMaker endpoint behind the API (it exists only while awake)."
  value       = var.endpoint_name
}

output "invoke_policy_arn" {
  description = "Managed IAM policy for application roles: execute-api:Invoke on the API's routes (needed with IAM auth) and sagemaker:InvokeEndpoint on the endpoint (direct calls)."
  value       = aws_iam_policy.invoke.arn
}

output "invoke_policy_json" {
  description = "The same policy as a JSON document, to merge into a caller's own policy."
  value       = data.aws_iam_policy_document.invoke.json
}

output "queue_url" {
  description = "URL of the queue holding requests accepted with Prefer: respond-async until they are replayed."
  value       = aws_sqs_queue.requests.url
}

output "dlq_url" {
  description = "URL of the dead-letter queue: requests whose replay failed max_receive_count times (redrive them to replay again)."
  value       = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "bucket_name" {
  description = "Bucket of large request bodies (requests/) and results (results/)."
  value       = aws_s3_bucket.this.bucket
}

output "tokens_table_name" {
  description = "DynamoDB table of token hashes (tools/tokens.py manages it); null with IAM auth."
  value       = try(aws_dynamodb_table.tokens[0].name, null)
}

output "gateway_function_name" {
  description = "Name of the gateway Lambda function."
  value       = aws_lambda_function.this["gateway"].function_name
}

output "replay_function_name" {
  description = "Name of the replay Lambda function."
  value       = aws_lambda_function.this["replay"].function_name
}

output "replay_control_function_name" {
  description = "Name of the function that switches the replay on while the endpoint serves."
  value       = aws_lambda_function.replay_control.function_name
}

output "authorizer_function_name" {
  description = "Name of the token authorizer function; null with IAM auth."
  value       = try(aws_lambda_function.this["authorizer"].function_name, null)
}

output "replay_mapping_uuid" {
  description = "UUID of the replay function's SQS event source mapping (enabled only while the endpoint serves)."
  value       = aws_lambda_event_source_mapping.replay.uuid
}

output "access_log_group_name" {
  description = "CloudWatch log group of the API's access logs."
  value       = aws_cloudwatch_log_group.access.name
}
