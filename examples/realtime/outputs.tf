output "api_url" {
  description = "The gateway's URL: POST /invoke, GET /status, /lease (make token-create for a token)."
  value       = module.gateway.api_url
}

output "endpoint_name" {
  description = "The endpoint the manager creates on demand."
  value       = module.endpoint.endpoint_name
}

output "manager_function_name" {
  description = "The manager Lambda (invoke it with {\"action\": \"status\"})."
  value       = module.manager.function_name
}

output "invoke_policy_json" {
  description = "Attach to an application's role: call the gateway, wake the endpoint through the manager."
  value       = module.gateway.invoke_policy_json
}
