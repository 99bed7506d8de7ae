locals {
  lambda_package_path = coalesce(var.lambda_package_path, "${path.module}/../../build/sleepwake.zip")
}

module "model" {
  source = "../../modules/sagemaker-model"

  name           = var.name
  image          = var.image_uri
  model_data_url = var.model_data_url
  environment    = var.model_environment
  kms_key_arn    = var.model_artifact_kms_key_arn
}

module "endpoint" {
  source = "../../modules/realtime-endpoint"

  name                   = var.name
  model_name             = module.model.model_name
  instance_type          = var.instance_type
  initial_instance_count = var.instance_count

  container_startup_health_check_timeout_in_seconds = var.container_startup_health_check_timeout_in_seconds

  # The manager owns the endpoint: Terraform never creates, updates or deletes it.
  create_endpoint = false
}

module "manager" {
  source = "../../modules/sleep-wake-manager"

  name             = var.name
  environment_name = var.environment_name

  lambda_package = {
    path         = local.lambda_package_path
    base64sha256 = filebase64sha256(local.lambda_package_path)
  }

  endpoints = {
    (module.endpoint.endpoint_name) = {
      endpoint_config_name = module.endpoint.endpoint_config_name
      instance_type        = module.endpoint.instance_type
      instance_count       = module.endpoint.instance_count
    }
  }

  idle_timeout_minutes   = var.idle_timeout_minutes
  protected              = var.protected
  notification_topic_arn = var.notification_topic_arn
  alarm_actions          = compact([var.notification_topic_arn])
  log_level              = var.log_level

  table_deletion_protection_enabled = var.table_deletion_protection_enabled
}

# Attach to the role of every application that calls the endpoint: it may invoke the endpoint and
# ask the manager to wake it (or for its status).
data "aws_iam_policy_document" "app" {
  source_policy_documents = [
    module.manager.invoke_manager_policy_json,
    module.manager.record_activity_policy_json,
  ]

  statement {
    sid       = "InvokeEndpoint"
    actions   = ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"]
    resources = [module.endpoint.endpoint_arn]
  }
}

resource "aws_iam_policy" "app" {
  name        = "${var.name}-app-invoke"
  description = "Invoke the ${var.name} endpoint and wake it through the sleep/wake manager"
  policy      = data.aws_iam_policy_document.app.json
}
