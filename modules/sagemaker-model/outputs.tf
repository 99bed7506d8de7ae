output "model_name" {
  description = "Name of the SageMaker model (`<name>-<hash>`); changes whenever the model is replaced."
  value       = aws_sagemaker_model.this.name
}

output "model_arn" {
  description = "ARN of the SageMaker model."
  value       = aws_sagemaker_model.this.arn
}

output "execution_role_arn" {
  description = "ARN of the execution role the model uses (created or supplied)."
  value       = local.execution_role_arn
}

output "execution_role_name" {
  description = "Name of the created execution role; null when `execution_role_arn` was supplied."
  value       = try(aws_iam_role.this[0].name, null)
}
