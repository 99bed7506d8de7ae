# Shared by every environment (environments/staging and prod link to this file). Every mode exports the same
# outputs; the ones a mode does not have are null.

output "inference_mode" {
  description = "The inference mode deployed: realtime, serverless or async."
  value       = var.inference_mode
}

output "endpoint_name" {
  description = "Name of the SageMaker endpoint (real-time: it exists only while awake)."
  value = one(concat(
    module.realtime_endpoint[*].endpoint_name,
    module.serverless_endpoint[*].endpoint_name,
    module.async_endpoint[*].endpoint_name,
  ))
}

output "endpoint_arn" {
  description = "ARN of the SageMaker endpoint."
  value = one(concat(
    module.realtime_endpoint[*].endpoint_arn,
    module.serverless_endpoint[*].endpoint_arn,
    module.async_endpoint[*].endpoint_arn,
  ))
}

output "invoke_policy_arn" {
  description = "IAM policy to attach to application roles; what it allows depends on the mode (invoke and wake; invoke; upload, status and results)."
  value       = aws_iam_policy.invoke.arn
}

output "model_name" {
  description = "Name of the SageMaker model."
  value       = module.model.model_name
}

output "state_table_name" {
  description = "DynamoDB state table: the manager's (real-time) or the input records' (async; applications set SLEEPWAKE_ASYNC_TABLE_NAME to it); null in serverless mode."
  value       = one(concat(module.manager[*].table_name, module.async_jobs[*].table_name))
}

output "api_url" {
  description = "URL of the inference gateway (real-time mode): POST <api_url>/invoke, GET <api_url>/status, GET|POST|DELETE <api_url>/lease; null in the other modes."
  value       = one(module.gateway[*].api_url)
}

output "gateway_auth" {
  description = "How callers authenticate to the gateway: token (Authorization: Bearer, see `make token-create`) or iam (SigV4); null outside real-time mode."
  value       = one(module.gateway[*].auth)
}

output "gateway_tokens_table_name" {
  description = "DynamoDB table of the gateway's token hashes (tools/tokens.py reads this output); null with IAM auth or outside real-time mode."
  value       = one(module.gateway[*].tokens_table_name)
}

output "gateway_dlq_url" {
  description = "Dead-letter queue of queued requests whose replay kept failing (redrive to replay them); null outside real-time mode."
  value       = one(module.gateway[*].dlq_url)
}

output "manager_function_name" {
  description = "Name of the sleep/wake manager Lambda (real-time mode); null in the other modes."
  value       = one(module.manager[*].function_name)
}

output "input_bucket" {
  description = "Bucket to upload inputs to (async mode); null in the other modes."
  value       = one(module.async_endpoint[*].input_bucket)
}

output "input_prefix" {
  description = "Key prefix inputs must be uploaded under to be submitted (async mode); null in the other modes."
  value       = one(module.async_endpoint[*].input_prefix)
}

output "output_path" {
  description = "S3 URI under which results appear (async mode); null in the other modes."
  value       = one(module.async_endpoint[*].output_path)
}

output "wake_command" {
  description = "Shell command that wakes the endpoint (real-time mode; answers at once, poll status_command until ready)."
  value       = local.realtime ? local.manager_commands.wake : null
}

output "status_command" {
  description = "Shell command that prints the endpoint's state (real-time mode)."
  value       = local.realtime ? local.manager_commands.status : null
}

output "sleep_command" {
  description = "Shell command that puts the endpoint to sleep now (real-time mode)."
  value       = local.realtime ? local.manager_commands.sleep : null
}

locals {
  manager_commands = {
    for action in ["wake", "status", "sleep"] : action => (local.realtime ?
      "aws lambda invoke --region ${var.region} --function-name ${module.manager[0].function_name} --cli-binary-format raw-in-base64-out --payload '{\"action\":\"${action}\",\"endpoint_name\":\"${module.realtime_endpoint[0].endpoint_name}\"}' /dev/stdout"
    : null)
  }
}
