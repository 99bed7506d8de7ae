output "endpoint_name" {
  description = "Endpoint name, whether or not Terraform created the endpoint."
  value       = var.name
}

output "endpoint_arn" {
  description = "Endpoint ARN as SageMaker forms it (name lower-cased). Known at plan time and valid for IAM policies even while the endpoint is asleep."
  value       = local.endpoint_arn
}

output "endpoint_config_name" {
  description = "Name of the current endpoint configuration; changes whenever the configuration is replaced."
  value       = aws_sagemaker_endpoint_configuration.this["preferred"].name
}

output "endpoint_config_arn" {
  description = "ARN of the current endpoint configuration."
  value       = aws_sagemaker_endpoint_configuration.this["preferred"].arn
}

output "endpoint_configs" {
  description = "Capacity-aware wake: every (endpoint_config_name, instance_type) in the order the manager tries them, the preferred `instance_type` first, then `fallback_instance_types`."
  value = [
    for key in local.config_keys : {
      endpoint_config_name = aws_sagemaker_endpoint_configuration.this[key].name
      instance_type        = local.configurations[key]
    }
  ]
}

output "endpoint_config_arns" {
  description = "ARNs of every endpoint configuration (the preferred one first), for IAM."
  value       = [for key in local.config_keys : aws_sagemaker_endpoint_configuration.this[key].arn]
}

output "instance_type" {
  description = "Instance type of the production variant."
  value       = var.instance_type
}

output "instance_count" {
  description = "Initial instance count of the production variant."
  value       = var.initial_instance_count
}

output "variant_name" {
  description = "Name of the production variant."
  value       = var.variant_name
}

output "managed_by" {
  description = "Who owns the endpoint's lifecycle: `terraform` (create_endpoint = true) or `sleep-wake-manager`."
  value       = var.create_endpoint ? "terraform" : "sleep-wake-manager"
}

output "invoke_policy_json" {
  description = "IAM policy document (JSON) allowing sagemaker:InvokeEndpoint (and the streaming variant) on this endpoint, valid while it sleeps; attach it to callers."
  value       = data.aws_iam_policy_document.invoke.json
}
