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

output "variant_name" {
  description = "Name of the production variant."
  value       = var.variant_name
}

output "input_bucket" {
  description = "Bucket of the inputs (created or supplied)."
  value       = local.input_bucket
}

output "input_bucket_arn" {
  description = "ARN of the input bucket."
  value       = local.input_bucket_arn
}

output "input_prefix" {
  description = "Key prefix of the inputs."
  value       = var.input_prefix
}

output "output_bucket" {
  description = "Bucket of the results and failure payloads (created or supplied)."
  value       = local.output_bucket
}

output "output_bucket_arn" {
  description = "ARN of the output bucket."
  value       = local.output_bucket_arn
}

output "output_path" {
  description = "S3 URI under which SageMaker writes results (S3OutputPath)."
  value       = local.output_path
}

output "failure_path" {
  description = "S3 URI under which SageMaker writes failure payloads (S3FailurePath)."
  value       = local.failure_path
}

output "success_topic_arn" {
  description = "SNS topic SageMaker notifies on success (created or supplied)."
  value       = local.success_topic_arn
}

output "error_topic_arn" {
  description = "SNS topic SageMaker notifies on failure (created or supplied)."
  value       = local.error_topic_arn
}

output "kms_key_arn" {
  description = "The customer managed key of the buckets, topics and results; null when AWS managed keys are used."
  value       = var.kms_key_arn
}

output "execution_policy_json" {
  description = "IAM policy document (JSON) the execution role needs for async inference; attached for you when execution_role_name is given."
  value       = data.aws_iam_policy_document.execution.json
}

output "invoke_policy_json" {
  description = "IAM policy document (JSON) allowing sagemaker:InvokeEndpointAsync on this endpoint, for callers that submit requests themselves."
  value       = data.aws_iam_policy_document.invoke.json
}

output "scalable_target_resource_id" {
  description = "Application Auto Scaling resource ID of the variant (`endpoint/<name>/variant/<variant>`); null without autoscaling."
  value       = try(aws_appautoscaling_target.this[0].resource_id, null)
}

output "min_capacity" {
  description = "Fewest instances autoscaling keeps (0 = scales to zero); null without autoscaling."
  value       = try(var.autoscaling.min_capacity, null)
}

output "max_capacity" {
  description = "Most instances autoscaling adds; null without autoscaling."
  value       = try(var.autoscaling.max_capacity, null)
}

output "backlog_alarm_arn" {
  description = "ARN of the HasBacklogWithoutCapacity alarm that scales out from zero; null unless min_capacity is 0."
  value       = try(aws_cloudwatch_metric_alarm.backlog_without_capacity[0].arn, null)
}
