# Shared by every environment: environments/staging and environments/prod link to this file. The environments
# differ only in their terraform.tfvars (and backend key).
#
# One inference mode at a time, chosen by var.inference_mode. Each mode's modules are counted in (1) or out (0),
# so switching the mode and applying again creates the new mode's resources and destroys the old ones. Their
# names never clash (the endpoint is <name>, <name>-serverless or <name>-async; configurations use name_prefix
# with create_before_destroy; the model name is a content hash), and the manager deletes the real-time endpoint
# it created before Terraform destroys it (modules/sleep-wake-manager, teardown.tf). See docs/modes.md.

locals {
  lambda_package_path = coalesce(var.lambda_package_path, "${path.module}/../../build/sleepwake.zip")
  lambda_package = {
    path         = local.lambda_package_path
    base64sha256 = filebase64sha256(local.lambda_package_path)
  }

  realtime   = var.inference_mode == "realtime"
  serverless = var.inference_mode == "serverless"
  async      = var.inference_mode == "async"

  # Real-time mode's fallback answer while the GPU endpoint wakes: a CPU serverless endpoint of its own model.
  fallback = local.realtime && try(var.realtime.fallback, null) != null

  # The tags of the endpoint the manager creates on each wake: the provider's default tags do not reach it (it is
  # created through the API, not by Terraform), so they travel in the manager's settings; it adds managed-by.
  endpoint_tags = merge(var.tags, {
    Project     = "sagemaker-sleepwake"
    Environment = var.environment_name
  })

  # The chosen mode's settings block; the variables' validations make sure it is set.
  image_uri = {
    realtime   = try(var.realtime.image_uri, null)
    serverless = try(var.serverless.image_uri, null)
    async      = try(var.async.image_uri, null)
  }[var.inference_mode]
}

# The model in every mode. Its name is a hash of what forces a new model, so a different image (or isolation)
# per mode creates the new model before the old one goes.
module "model" {
  #checkov:skip=CKV_AWS_370:Network isolation is on in real-time and async mode; serverless mode must turn it off because SageMaker Serverless Inference refuses isolated models.
  source = "../../modules/sagemaker-model"

  name           = var.name
  image          = local.image_uri
  model_data_url = var.model_data_url
  environment    = var.model_environment
  kms_key_arn    = var.model_artifact_kms_key_arn

  # SageMaker Serverless Inference rejects models with network isolation (and with a VPC, which is not set here).
  enable_network_isolation = !local.serverless
}

# ---- realtime: a GPU endpoint configuration; the manager creates the endpoint on demand and deletes it after idle

module "realtime_endpoint" {
  source = "../../modules/realtime-endpoint"
  count  = local.realtime ? 1 : 0

  name                   = var.name
  model_name             = module.model.model_name
  instance_type          = var.realtime.instance_type
  initial_instance_count = var.realtime.instance_count

  # Capacity-aware wake: one more configuration per fallback type, tried in order when a wake finds no capacity.
  fallback_instance_types = var.realtime.fallback_instance_types

  container_startup_health_check_timeout_in_seconds = var.realtime.container_startup_health_check_timeout_in_seconds

  # The manager owns the endpoint: Terraform never creates, updates or deletes it.
  create_endpoint = false
}

module "manager" {
  source = "../../modules/sleep-wake-manager"
  count  = local.realtime ? 1 : 0

  name             = var.name
  environment_name = var.environment_name
  lambda_package   = local.lambda_package

  endpoints = {
    (module.realtime_endpoint[0].endpoint_name) = {
      endpoint_config_name = module.realtime_endpoint[0].endpoint_config_name
      instance_type        = module.realtime_endpoint[0].instance_type
      instance_count       = module.realtime_endpoint[0].instance_count
      keep_warm            = var.realtime.keep_warm
      tags                 = local.endpoint_tags
      fallback_configs     = slice(module.realtime_endpoint[0].endpoint_configs, 1, length(module.realtime_endpoint[0].endpoint_configs))
    }
  }

  policy                 = var.realtime.policy
  hourly_price_overrides = var.hourly_price_overrides
  fleet                  = var.realtime.fleet ? {} : null
  idle_timeout_minutes   = var.realtime.idle_timeout_minutes
  protected              = var.realtime.protected
  notification_topic_arn = var.notification_topic_arn
  alarm_actions          = compact([var.notification_topic_arn])
  log_level              = var.log_level

  table_deletion_protection_enabled = var.realtime.table_deletion_protection_enabled
}

# The wake-aware HTTPS API in front of the real-time endpoint: a request to the sleeping endpoint wakes it and
# gets 503 + Retry-After, or, with Prefer: respond-async, is queued and replayed once it is InService; leases
# keep it awake. It wakes the endpoint through the manager service, in process, with the manager's settings.
module "gateway" {
  source = "../../modules/inference-gateway"
  count  = local.realtime ? 1 : 0

  name           = lower(var.name)
  endpoint_name  = module.realtime_endpoint[0].endpoint_name
  lambda_package = local.lambda_package

  manager_environment = module.manager[0].lambda_environment
  state_table_arn     = module.manager[0].table_arn

  auth                         = var.gateway.auth
  authorizer_cache_ttl_seconds = var.gateway.authorizer_cache_ttl_seconds
  throttling_rate_limit        = var.gateway.throttling_rate_limit
  throttling_burst_limit       = var.gateway.throttling_burst_limit
  max_lease_minutes            = var.gateway.max_lease_minutes
  fallback_endpoint_name       = local.fallback ? module.fallback_endpoint[0].endpoint_name : null
  fallback_by_default          = local.fallback ? var.realtime.fallback.by_default : false
  alarm_actions                = compact([var.notification_topic_arn])

  bucket_force_destroy                     = var.gateway.force_destroy_bucket
  tokens_table_deletion_protection_enabled = var.realtime.table_deletion_protection_enabled
}

# The fallback answer while the GPU endpoint wakes: a serverless endpoint (costs nothing while unused) of a CPU
# model, with network isolation off as Serverless Inference requires. Terraform owns it; only the gateway calls it.
module "fallback_model" {
  #checkov:skip=CKV_AWS_370:SageMaker Serverless Inference refuses isolated models; this model serves the serverless fallback.
  source = "../../modules/sagemaker-model"
  count  = local.fallback ? 1 : 0

  name           = "${var.name}-fallback"
  image          = var.realtime.fallback.image_uri
  model_data_url = coalesce(var.realtime.fallback.model_data_url, var.model_data_url)
  environment    = var.model_environment
  kms_key_arn    = var.model_artifact_kms_key_arn

  enable_network_isolation = false
}

module "fallback_endpoint" {
  source = "../../modules/serverless-endpoint"
  count  = local.fallback ? 1 : 0

  name       = "${var.name}-fallback"
  model_name = module.fallback_model[0].model_name

  serverless_config = {
    memory_size_in_mb = var.realtime.fallback.memory_size_in_mb
    max_concurrency   = var.realtime.fallback.max_concurrency
  }
}

# ---- serverless: CPU, scales to zero by itself; nothing else to run

module "serverless_endpoint" {
  source = "../../modules/serverless-endpoint"
  count  = local.serverless ? 1 : 0

  name       = "${var.name}-serverless"
  model_name = module.model.model_name

  serverless_config = {
    memory_size_in_mb       = var.serverless.memory_size_in_mb
    max_concurrency         = var.serverless.max_concurrency
    provisioned_concurrency = var.serverless.provisioned_concurrency
  }
}

# ---- async: S3 upload -> trigger -> InvokeEndpointAsync -> SNS result -> status; instances scale to zero

module "async_endpoint" {
  source = "../../modules/async-endpoint"
  count  = local.async ? 1 : 0

  name                = "${var.name}-async"
  model_name          = module.model.model_name
  execution_role_name = module.model.execution_role_name
  instance_type       = var.async.instance_type

  max_concurrent_invocations_per_instance = var.async.max_concurrent_invocations_per_instance
  output_expiration_days                  = var.async.output_expiration_days
  force_destroy_buckets                   = var.async.force_destroy_buckets

  autoscaling = {
    min_capacity                = var.async.min_instance_count
    max_capacity                = var.async.max_instance_count
    target_backlog_per_instance = var.async.target_backlog_per_instance
  }
}

module "async_jobs" {
  source = "../../modules/async-jobs"
  count  = local.async ? 1 : 0

  name             = var.name
  environment_name = var.environment_name
  lambda_package   = local.lambda_package

  endpoint_name     = module.async_endpoint[0].endpoint_name
  input_bucket_name = module.async_endpoint[0].input_bucket
  input_prefix      = module.async_endpoint[0].input_prefix
  result_locations  = [module.async_endpoint[0].output_path, module.async_endpoint[0].failure_path]
  success_topic_arn = module.async_endpoint[0].success_topic_arn
  error_topic_arn   = module.async_endpoint[0].error_topic_arn
  kms_key_arn       = module.async_endpoint[0].kms_key_arn

  alarm_actions = compact([var.notification_topic_arn])
  log_level     = var.log_level
}

# ---- every mode: one policy for the applications that use the model

# Attach to the role of every application that calls the model. Real-time: invoke the endpoint, wake it through
# the manager and record activity. Serverless: invoke the endpoint. Async: upload inputs, read their status and
# results (the trigger submits them; applications never call InvokeEndpointAsync themselves, which would bypass
# the per-input records). Only the chosen mode's modules exist, so only their statements are collected.
data "aws_iam_policy_document" "invoke" {
  source_policy_documents = concat(
    module.realtime_endpoint[*].invoke_policy_json,
    module.manager[*].invoke_manager_policy_json,
    module.manager[*].record_activity_policy_json,
    module.gateway[*].invoke_policy_json,
    module.serverless_endpoint[*].invoke_policy_json,
    module.async_jobs[*].app_policy_json,
  )
}

# Name and description force a new policy when they change, and IAM refuses to delete a policy still attached
# to application roles, so both stay the same in every mode; only the document changes (in place).
resource "aws_iam_policy" "invoke" {
  name        = "${var.name}-app-invoke"
  description = "Use the ${var.name} model from an application, whatever the inference mode"
  policy      = data.aws_iam_policy_document.invoke.json
}

# Addresses before the inference mode existed: an environment applied then upgrades in place.
moved {
  from = module.endpoint
  to   = module.realtime_endpoint[0]
}

moved {
  from = module.manager
  to   = module.manager[0]
}

moved {
  from = aws_iam_policy.app
  to   = aws_iam_policy.invoke
}
