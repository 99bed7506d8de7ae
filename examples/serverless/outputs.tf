output "endpoint_name" {
  description = "The serverless endpoint: call it with InvokeEndpoint."
  value       = module.endpoint.endpoint_name
}

output "invoke_policy_json" {
  description = "Attach to an application's role to let it invoke the endpoint."
  value       = module.endpoint.invoke_policy_json
}
