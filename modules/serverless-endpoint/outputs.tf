output "endpoint_name" {
  description = "Endpoint name."
  value       = aws_sagemaker_endpoint.this.name
}

output "endpoint_arn" {
  description = "Endpoint ARN as SageMaker forms it (name lower-cased); known at plan time, for IAM policies."
  value       = local.endpoint_arn
}

output "endpoint_config_name" {
  description = "Name of the current endpoint configuration; changes whenever the configuration is replaced."
  value       = aws_sagemaker_endpoint_configuration.this.name
}

output "endpoint_config_arn" {
  description = "ARN of the current endpoint configuration."
  value       = aws_sagemaker_endpoint_configuration.this.arn
}

output "variant_name" {
  description = "Name of the production variant."
  value       = var.variant_name
}

output "memory_size_in_mb" {
  description = "Memory per concurrent invocation, in MB."
  value       = var.serverless_config.memory_size_in_mb
}

output "max_concurrency" {
  description = "Most concurrent invocations the endpoint serves."
  value       = var.serverless_config.max_concurrency
}

output "provisioned_concurrency" {
  description = "Provisioned (always warm, always billed) concurrency; null when there is none."
  value       = var.serverless_config.provisioned_concurrency
}

output "invoke_policy_json" {
  description = "IAM policy document (JSON) allowing sagemaker:InvokeEndpoint (and the streaming variant) on this endpoint; attach it to callers."
  value       = data.aws_iam_policy_document.invoke.json
}
