output "endpoint_name" {
  description = "Name of the SageMaker endpoint (it exists only while awake)."
  value       = module.endpoint.endpoint_name
}

output "endpoint_arn" {
  description = "ARN of the SageMaker endpoint."
  value       = module.endpoint.endpoint_arn
}

output "endpoint_config_name" {
  description = "Endpoint configuration the manager creates the endpoint from."
  value       = module.endpoint.endpoint_config_name
}

output "model_name" {
  description = "Name of the SageMaker model."
  value       = module.model.model_name
}

output "manager_function_name" {
  description = "Name of the sleep/wake manager Lambda."
  value       = module.manager.function_name
}

output "manager_function_arn" {
  description = "ARN of the sleep/wake manager Lambda."
  value       = module.manager.function_arn
}

output "state_table_name" {
  description = "DynamoDB table holding the manager's state."
  value       = module.manager.table_name
}

output "app_invoke_policy_arn" {
  description = "IAM policy to attach to application roles: invoke the endpoint and the manager."
  value       = aws_iam_policy.app.arn
}

output "wake_command" {
  description = "Shell command that wakes the endpoint (answers at once; poll status_command until ready)."
  value       = "aws lambda invoke --region ${var.region} --function-name ${module.manager.function_name} --cli-binary-format raw-in-base64-out --payload '{\"action\":\"wake\",\"endpoint_name\":\"${module.endpoint.endpoint_name}\"}' /dev/stdout"
}

output "status_command" {
  description = "Shell command that prints the endpoint's state."
  value       = "aws lambda invoke --region ${var.region} --function-name ${module.manager.function_name} --cli-binary-format raw-in-base64-out --payload '{\"action\":\"status\",\"endpoint_name\":\"${module.endpoint.endpoint_name}\"}' /dev/stdout"
}

output "sleep_command" {
  description = "Shell command that puts the endpoint to sleep now."
  value       = "aws lambda invoke --region ${var.region} --function-name ${module.manager.function_name} --cli-binary-format raw-in-base64-out --payload '{\"action\":\"sleep\",\"endpoint_name\":\"${module.endpoint.endpoint_name}\"}' /dev/stdout"
}
