output "function_name" {
  description = "Name of the manager Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the manager Lambda function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the manager's IAM role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the manager's IAM role."
  value       = aws_iam_role.this.name
}

output "table_name" {
  description = "Name of the DynamoDB state table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the DynamoDB state table."
  value       = aws_dynamodb_table.this.arn
}

output "log_group_name" {
  description = "Name of the manager's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "schedule_rule_arn" {
  description = "ARN of the EventBridge rule that ticks the manager."
  value       = aws_cloudwatch_event_rule.schedule.arn
}

output "state_change_rule_arn" {
  description = "ARN of the EventBridge rule that forwards SageMaker endpoint state changes."
  value       = aws_cloudwatch_event_rule.state_change.arn
}

output "error_alarm_arn" {
  description = "ARN of the alarm on the manager's Errors metric."
  value       = aws_cloudwatch_metric_alarm.errors.arn
}

output "throttle_alarm_arn" {
  description = "ARN of the alarm on the manager's Throttles metric."
  value       = aws_cloudwatch_metric_alarm.throttles.arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard; null when create_dashboard is false."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_url" {
  description = "Console URL of the CloudWatch dashboard; null when create_dashboard is false."
  value       = try("https://${local.dashboard_console_host}/cloudwatch/home?region=${local.region}#dashboards/dashboard/${aws_cloudwatch_dashboard.this[0].dashboard_name}", null)
}

output "fleet_tag" {
  description = "The opt-in tag of fleet mode as { key, value }; null when fleet mode is off. Tag an endpoint with it to put it under the manager."
  value       = var.fleet == null ? null : { key = var.fleet.tag_key, value = var.fleet.tag_value }
}

output "notification_topic_arn" {
  description = "SNS topic the manager notifies (created or supplied); null when notifications are off."
  value       = local.notification_topic_arn
}

output "invoke_manager_policy_json" {
  description = "IAM policy document (JSON) allowing lambda:InvokeFunction on the manager; attach it to callers that wake endpoints."
  value       = data.aws_iam_policy_document.invoke_manager.json
}

output "record_activity_policy_json" {
  description = "IAM policy document (JSON) letting application code record its requests (in-flight mark, last_activity, request count; nothing else) on the managed endpoints' records, as sleepwake_client.client and ActivityRecorder do; attach it with invoke_manager_policy_json."
  value       = data.aws_iam_policy_document.record_activity.json
}

output "lambda_environment" {
  description = "The SLEEPWAKE_* environment the manager Lambda runs with, for other functions of the same package (the gateway) that call the manager service in-process."
  value       = local.lambda_environment
}
