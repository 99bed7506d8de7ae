# Serverless inference: SageMaker scales a CPU endpoint from zero per request, so nothing runs (or bills)
# between requests, and there is no Lambda to deploy.

module "model" {
  source = "../../modules/sagemaker-model"

  name                     = var.name
  image                    = var.image_uri
  model_data_url           = var.model_data_url
  enable_network_isolation = false # serverless endpoints refuse network isolation
}

module "endpoint" {
  source = "../../modules/serverless-endpoint"

  name       = "${var.name}-serverless"
  model_name = module.model.model_name

  serverless_config = {
    memory_size_in_mb = 4096
    max_concurrency   = 20
    # provisioned_concurrency = 2   # warm, billed around the clock
  }
}
