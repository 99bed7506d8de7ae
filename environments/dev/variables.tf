# Shared by every environment: environments/staging and environments/prod link to this file. The environments
# differ only in their terraform.tfvars (and backend key).

variable "region" {
  type        = string
  description = "AWS region to deploy to. The instance types must be available for SageMaker hosting there."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "The region must be an AWS region name such as us-east-1."
  }
}

variable "name" {
  type        = string
  description = "Name of this deployment: the prefix of every resource name. The endpoint is `<name>` in real-time mode, `<name>-serverless` and `<name>-async` in the others, so a mode switch never clashes on a name."

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9])*$", var.name)) && length(var.name) <= 40
    error_message = "The name must match ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$ and be at most 40 characters."
  }
}

variable "environment_name" {
  type        = string
  description = "Environment name, in tags, logs and notifications."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.environment_name))
    error_message = "The environment_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "inference_mode" {
  type        = string
  description = "How the model is served: `realtime` (a GPU endpoint the sleep/wake manager creates on demand and deletes after idle), `serverless` (SageMaker Serverless Inference: CPU, scales to zero by itself) or `async` (an async endpoint fed by S3 uploads, scaling to zero instances). Only the settings block of the chosen mode is used; change this one line to switch (see docs/modes.md)."

  validation {
    condition     = contains(["realtime", "serverless", "async"], var.inference_mode)
    error_message = "The inference_mode must be one of realtime, serverless, async."
  }
}

variable "model_data_url" {
  type        = string
  description = "S3 URI of the model artifact (model.tar.gz), in the deployment's region."

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", var.model_data_url))
    error_message = "The model_data_url must look like s3://bucket/path/model.tar.gz."
  }
}

variable "model_environment" {
  type        = map(string)
  description = "Environment variables of the inference container (for example HF_TASK)."
  default     = {}
}

variable "model_artifact_kms_key_arn" {
  type        = string
  description = "KMS key of the model artifact when its bucket uses SSE-KMS; null for SSE-S3."
  default     = null
}

variable "realtime" {
  type = object({
    image_uri                                         = string
    instance_type                                     = optional(string, "ml.g4dn.xlarge")
    fallback_instance_types                           = optional(list(string), [])
    instance_count                                    = optional(number, 1)
    container_startup_health_check_timeout_in_seconds = optional(number, 600)
    policy                                            = optional(string, "adaptive")
    idle_timeout_minutes                              = optional(number, 15)
    keep_warm                                         = optional(string)
    fleet                                             = optional(bool, false)
    protected                                         = optional(bool, false)
    table_deletion_protection_enabled                 = optional(bool, false)
    fallback = optional(object({
      image_uri         = string
      model_data_url    = optional(string)
      memory_size_in_mb = optional(number, 4096)
      max_concurrency   = optional(number, 5)
      by_default        = optional(bool, false)
    }))
  })
  description = "Real-time mode: the inference image (GPU images work), the instance type and count while awake, `fallback_instance_types` to wake on, in order, when that type has no capacity (one endpoint configuration each; the next wake tries `instance_type` first again), the idle `policy` (adaptive, fixed, breakeven, always-on; see modules/sleep-wake-manager) and, for `fixed`, the minutes without activity before the manager deletes the endpoint, an optional `keep_warm` schedule (e.g. \"Mon-Fri 09:00-18:00 Europe/Paris\"), `fleet` to also manage every endpoint tagged auto-maintain=true in the account and region, `protected` to never sleep it, `fallback` to answer requests that accept it (`Prefer: fallback`, or all synchronous ones with `by_default`) from a CPU serverless endpoint `<name>-fallback` (its own CPU `image_uri`, and `model_data_url`, by default the main one: a smaller or distilled model) while the GPU endpoint wakes, and deletion protection of the manager's state table (on, it stops a switch away from real-time until turned off)."
  default     = null

  validation {
    condition     = var.inference_mode != "realtime" || var.realtime != null
    error_message = "The inference_mode is realtime, so the realtime settings block (at least image_uri) must be set in terraform.tfvars."
  }

  validation {
    # The fallback is a serverless endpoint: no GPU (as for serverless.image_uri below).
    condition     = try(var.realtime.fallback, null) == null || !can(regex("gpu", lower(try(var.realtime.fallback.image_uri, ""))))
    error_message = "The realtime.fallback is a serverless endpoint, which has no GPU: use a CPU inference image for realtime.fallback.image_uri (for AWS Deep Learning Containers, a tag with -cpu- instead of -gpu-)."
  }
}

variable "serverless" {
  type = object({
    image_uri               = string
    memory_size_in_mb       = optional(number, 2048)
    max_concurrency         = optional(number, 20)
    provisioned_concurrency = optional(number)
  })
  description = "Serverless mode: a CPU inference image (serverless endpoints have no GPU), memory per concurrent invocation (1024-6144 MB in steps of 1024), most concurrent invocations (1-200) and optional provisioned concurrency (at most max_concurrency; billed while provisioned). The limits are checked by modules/serverless-endpoint."
  default     = null

  validation {
    condition     = var.inference_mode != "serverless" || var.serverless != null
    error_message = "The inference_mode is serverless, so the serverless settings block (at least image_uri) must be set in terraform.tfvars."
  }

  validation {
    # AWS Deep Learning Container tags name the device ("...-gpu-py310-..."); a GPU image cannot start on
    # serverless capacity, and SageMaker would only say so when the first request fails.
    condition     = var.serverless == null || !can(regex("gpu", lower(try(var.serverless.image_uri, ""))))
    error_message = "Serverless endpoints have no GPU: use a CPU inference image for serverless.image_uri (for AWS Deep Learning Containers, a tag with -cpu- instead of -gpu-)."
  }
}

variable "async" {
  type = object({
    image_uri                               = string
    instance_type                           = optional(string, "ml.g4dn.xlarge")
    min_instance_count                      = optional(number, 0)
    max_instance_count                      = optional(number, 1)
    target_backlog_per_instance             = optional(number, 5)
    max_concurrent_invocations_per_instance = optional(number, 1)
    output_expiration_days                  = optional(number, 30)
    force_destroy_buckets                   = optional(bool, true)
  })
  description = "Async mode: the inference image (GPU images work), the instance type, the instance range autoscaling moves in (min 0 = scales to zero), the queued requests per instance it aims for, requests one instance works on at a time, days results are kept, and whether a switch away from async (or a destroy) deletes the input and output buckets with whatever inputs and results they still hold (true, the default: the switch or destroy is one apply with no manual step; false: it stops at a non-empty bucket, with BucketNotEmpty, until you empty it)."
  default     = null

  validation {
    condition     = var.inference_mode != "async" || var.async != null
    error_message = "The inference_mode is async, so the async settings block (at least image_uri) must be set in terraform.tfvars."
  }
}

variable "tags" {
  type        = map(string)
  description = "Your own tags (cost center, owner...), added to the provider's default tags (Project, Environment, ManagedBy) of every resource Terraform creates and, with Project and Environment, to the real-time endpoint the manager creates on each wake (provider default tags do not reach API-created resources)."
  default     = {}

  validation {
    condition     = length(var.tags) <= 30 && alltrue([for k, v in var.tags : !startswith(lower(k), "aws:") && length(k) <= 128 && length(v) <= 256])
    error_message = "At most 30 tags; keys up to 128 characters and not starting with aws:, values up to 256 characters."
  }
}

variable "hourly_price_overrides" {
  type        = map(number)
  description = "Your SageMaker prices in USD per instance-hour by instance type (savings plans, another region), used by the manager's status, notifications, report and dashboard instead of its on-demand us-east-1 table. Validated by modules/sleep-wake-manager."
  default     = {}
}

variable "notification_topic_arn" {
  type        = string
  description = "Existing SNS topic for the manager's wake/sleep/failure notifications and every mode's alarms; null turns them off."
  default     = null
}

variable "log_level" {
  type        = string
  description = "Log level of the Lambda functions."
  default     = "INFO"
}

variable "lambda_package_path" {
  type        = string
  description = "Path of the Lambda zip. Null uses build/sleepwake.zip at the repository root, where `make build` writes it."
  default     = null
}

variable "gateway" {
  type = object({
    auth                         = optional(string, "token")
    authorizer_cache_ttl_seconds = optional(number, 300)
    throttling_rate_limit        = optional(number, 10)
    throttling_burst_limit       = optional(number, 20)
    max_lease_minutes            = optional(number, 240)
    force_destroy_bucket         = optional(bool, true)
  })
  description = "Real-time mode's inference gateway: `token` or `iam` auth, the authorizer's cache TTL (how long a revoked token still works), the API's throttling (requests per second, and burst), the longest lease, and whether a switch away from real-time (or a destroy) deletes the request bucket with the queued bodies and results it still holds (true, the default: they are transient, kept at most request_retention_days, and the switch or destroy is one apply; false: it stops at a non-empty bucket with BucketNotEmpty). modules/inference-gateway validates the values."
  default     = {}
}
