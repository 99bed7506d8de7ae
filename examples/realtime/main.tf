# Real-time inference on a GPU endpoint that exists only while it is used: the sleep/wake manager creates it on
# the first request (through the gateway) or wake, and deletes it after idle. Terraform creates the model and
# the endpoint configuration, never the endpoint. `make build` writes the Lambda package first.

locals {
  lambda_package = {
    path         = var.lambda_package_path
    base64sha256 = filebase64sha256(var.lambda_package_path)
  }
}

module "model" {
  source = "../../modules/sagemaker-model"

  name           = var.name
  image          = var.image_uri
  model_data_url = var.model_data_url

  environment = {
    HF_TASK = "text-classification"
  }
}

module "endpoint" {
  source = "../../modules/realtime-endpoint"

  name          = var.name
  model_name    = module.model.model_name
  instance_type = "ml.g5.xlarge"

  # Large models take a while to load.
  container_startup_health_check_timeout_in_seconds = 900
}

module "manager" {
  source = "../../modules/sleep-wake-manager"

  name           = var.name
  lambda_package = local.lambda_package

  endpoints = {
    (module.endpoint.endpoint_name) = {
      endpoint_config_name = module.endpoint.endpoint_config_name
      instance_type        = module.endpoint.instance_type
      instance_count       = module.endpoint.instance_count
      keep_warm            = "Mon-Fri 09:00-18:00 Europe/Paris"
    }
  }

  idle_timeout_minutes = 15
}

module "gateway" {
  source = "../../modules/inference-gateway"

  name           = var.name
  endpoint_name  = module.endpoint.endpoint_name
  lambda_package = local.lambda_package

  # The manager's settings and table: the gateway wakes the endpoint through the same service.
  manager_environment = module.manager.lambda_environment
  state_table_arn     = module.manager.table_arn

  auth                   = "token" # or "iam"
  throttling_rate_limit  = 20
  throttling_burst_limit = 40
  max_lease_minutes      = 240
}
