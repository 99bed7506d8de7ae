# Async inference: inputs uploaded to S3 are submitted by a trigger function, results land in S3 and are
# recorded per input; the instances scale in to zero when the queue is empty. `make build` writes the Lambda
# package first.

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
}

module "endpoint" {
  source = "../../modules/async-endpoint"

  name                = "${var.name}-async"
  model_name          = module.model.model_name
  execution_role_name = module.model.execution_role_name
  instance_type       = "ml.g4dn.xlarge"

  max_concurrent_invocations_per_instance = 1

  autoscaling = {
    min_capacity = 0
    max_capacity = 2
  }
}

module "jobs" {
  source = "../../modules/async-jobs"

  name           = var.name
  lambda_package = local.lambda_package

  endpoint_name     = module.endpoint.endpoint_name
  input_bucket_name = module.endpoint.input_bucket
  input_prefix      = module.endpoint.input_prefix
  result_locations  = [module.endpoint.output_path, module.endpoint.failure_path]
  success_topic_arn = module.endpoint.success_topic_arn
  error_topic_arn   = module.endpoint.error_topic_arn
}
