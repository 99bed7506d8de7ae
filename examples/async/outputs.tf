output "input_bucket" {
  description = "Upload inputs here, under input_prefix."
  value       = module.endpoint.input_bucket
}

output "input_prefix" {
  description = "The key prefix the trigger watches."
  value       = module.endpoint.input_prefix
}

output "output_path" {
  description = "Where results land."
  value       = module.endpoint.output_path
}

output "state_table_name" {
  description = "Per-input job records (SLEEPWAKE_ASYNC_TABLE_NAME for sleepwake.async_jobs)."
  value       = module.jobs.table_name
}

output "app_policy_json" {
  description = "Attach to an application's role: upload inputs, read their status and results."
  value       = module.jobs.app_policy_json
}
