variable "name" {
  type        = string
  description = "Endpoint name. Also the prefix of the endpoint configuration names, the created buckets (`<name>-in-...`, `<name>-out-...`, lower-cased), topics (`<name>-success`, `<name>-error`), scaling policies and alarm."

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.name))
    error_message = "The endpoint name must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$ (letters, digits and hyphens, at most 63 characters)."
  }
}

variable "model_name" {
  type        = string
  description = "Name of the SageMaker model to host (for example `module.model.model_name`)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.model_name))
    error_message = "The model_name must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$."
  }
}

variable "execution_role_name" {
  type        = string
  description = "Name of the model's execution role (`module.model.execution_role_name`). The module attaches the S3, SNS and KMS permissions async inference needs to it. Null: attach `execution_policy_json` to your role yourself."
  default     = null
}

variable "instance_type" {
  type        = string
  description = "SageMaker hosting instance type, `ml.` prefixed (GPU families such as `ml.g4dn.xlarge`, `ml.g5.xlarge` work; async inference has no serverless limits)."

  validation {
    condition     = can(regex("^ml\\.[a-z0-9-]+\\.[a-z0-9-]+$", var.instance_type))
    error_message = "The instance_type must be a SageMaker instance type such as ml.g5.xlarge."
  }
}

variable "initial_instance_count" {
  type        = number
  description = "Instances the endpoint is created with. SageMaker needs at least 1 to create an endpoint; with `autoscaling.min_capacity = 0` it scales in to zero after the scale-in cooldown."
  default     = 1

  validation {
    condition     = var.initial_instance_count >= 1 && floor(var.initial_instance_count) == var.initial_instance_count
    error_message = "The initial_instance_count must be a whole number >= 1 (SageMaker creates no endpoint with zero instances)."
  }
}

variable "variant_name" {
  type        = string
  description = "Name of the production variant (part of the scalable target's resource ID)."
  default     = "primary"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.variant_name))
    error_message = "The variant_name must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$."
  }
}

variable "container_startup_health_check_timeout_in_seconds" {
  type        = number
  description = "How long the container may take to pass its first /ping health check, 60-3600 seconds. Null uses the SageMaker default."
  default     = null

  validation {
    condition     = var.container_startup_health_check_timeout_in_seconds == null || try(var.container_startup_health_check_timeout_in_seconds >= 60 && var.container_startup_health_check_timeout_in_seconds <= 3600, false)
    error_message = "The container_startup_health_check_timeout_in_seconds must be between 60 and 3600, or null."
  }
}

variable "max_concurrent_invocations_per_instance" {
  type        = number
  description = "Requests SageMaker sends to one instance at a time (1-1000). Null lets SageMaker choose. Keep it low for a GPU model that serves one request at a time."
  default     = null

  validation {
    condition     = var.max_concurrent_invocations_per_instance == null || try(var.max_concurrent_invocations_per_instance >= 1 && var.max_concurrent_invocations_per_instance <= 1000 && floor(var.max_concurrent_invocations_per_instance) == var.max_concurrent_invocations_per_instance, false)
    error_message = "The max_concurrent_invocations_per_instance must be a whole number between 1 and 1000, or null."
  }
}

variable "input_bucket_name" {
  type        = string
  description = "Existing bucket for the inputs. Null (the default) creates one (versioned, encrypted, public access blocked, TLS only)."
  default     = null

  validation {
    condition     = var.input_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.input_bucket_name))
    error_message = "The input_bucket_name must be an S3 bucket name."
  }
}

variable "output_bucket_name" {
  type        = string
  description = "Existing bucket for results and failures. Null (the default) creates one (encrypted, public access blocked, TLS only, results expiring after output_expiration_days)."
  default     = null

  validation {
    condition     = var.output_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.output_bucket_name))
    error_message = "The output_bucket_name must be an S3 bucket name."
  }
}

variable "input_prefix" {
  type        = string
  description = "Key prefix of the inputs in the input bucket (SageMaker's execution role may read only these)."
  default     = "inputs/"

  validation {
    condition     = can(regex("^[^/\\s][^\\s]*/$", var.input_prefix))
    error_message = "The input_prefix must be a key prefix ending in \"/\" (for example inputs/), without a leading slash."
  }
}

variable "output_prefix" {
  type        = string
  description = "Key prefix of the results in the output bucket (SageMaker's S3OutputPath)."
  default     = "outputs/"

  validation {
    condition     = can(regex("^[^/\\s][^\\s]*/$", var.output_prefix))
    error_message = "The output_prefix must be a key prefix ending in \"/\" (for example outputs/), without a leading slash."
  }
}

variable "failure_prefix" {
  type        = string
  description = "Key prefix of the failure payloads in the output bucket (SageMaker's S3FailurePath)."
  default     = "failures/"

  validation {
    condition     = can(regex("^[^/\\s][^\\s]*/$", var.failure_prefix))
    error_message = "The failure_prefix must be a key prefix ending in \"/\" (for example failures/), without a leading slash."
  }
}

variable "output_expiration_days" {
  type        = number
  description = "Days after which results and failure payloads in a created output bucket expire."
  default     = 30

  validation {
    condition     = var.output_expiration_days >= 1 && floor(var.output_expiration_days) == var.output_expiration_days
    error_message = "The output_expiration_days must be a whole number >= 1."
  }
}

variable "input_expiration_days" {
  type        = number
  description = "Days after which inputs in a created input bucket expire (become noncurrent versions). Null (the default) keeps them."
  default     = null

  validation {
    condition     = var.input_expiration_days == null || try(var.input_expiration_days >= 1 && floor(var.input_expiration_days) == var.input_expiration_days, false)
    error_message = "The input_expiration_days must be a whole number >= 1, or null."
  }
}

variable "input_noncurrent_version_expiration_days" {
  type        = number
  description = "Days an overwritten or deleted input stays recoverable as a noncurrent version in a created input bucket."
  default     = 90

  validation {
    condition     = var.input_noncurrent_version_expiration_days >= 1 && floor(var.input_noncurrent_version_expiration_days) == var.input_noncurrent_version_expiration_days
    error_message = "The input_noncurrent_version_expiration_days must be a whole number >= 1."
  }
}

variable "force_destroy_buckets" {
  type        = bool
  description = "Let Terraform delete created buckets that still hold objects (for example when the environment switches away from async mode). False (the default) stops such a destroy with BucketNotEmpty, so inputs are never deleted by accident."
  default     = false
}

variable "success_topic_arn" {
  type        = string
  description = "Existing SNS topic for success notifications. Null (the default) creates `<name>-success`."
  default     = null

  validation {
    condition     = var.success_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.success_topic_arn))
    error_message = "The success_topic_arn must be an SNS topic ARN."
  }
}

variable "error_topic_arn" {
  type        = string
  description = "Existing SNS topic for error notifications. Null (the default) creates `<name>-error`."
  default     = null

  validation {
    condition     = var.error_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.error_topic_arn))
    error_message = "The error_topic_arn must be an SNS topic ARN."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the results SageMaker writes, the created buckets and topics. Null uses the AWS managed keys (aws/s3, aws/sns). The execution role gets kms:Encrypt/Decrypt/GenerateDataKey on it."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:...:kms:<region>:<account>:key/<id>)."
  }
}

variable "volume_kms_key_arn" {
  type        = string
  description = "KMS key for the instances' EBS volume. Must be null for instance types with local NVMe storage (g4dn, g5, g6, g6e, p4d, p5, ...), which SageMaker encrypts in hardware."
  default     = null

  validation {
    condition     = var.volume_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.volume_kms_key_arn))
    error_message = "The volume_kms_key_arn must be a KMS key ARN."
  }
}

variable "autoscaling" {
  type = object({
    min_capacity                         = optional(number, 0)
    max_capacity                         = optional(number, 1)
    target_backlog_per_instance          = optional(number, 5)
    scale_in_cooldown_seconds            = optional(number, 600)
    scale_out_cooldown_seconds           = optional(number, 300)
    scale_out_from_zero_cooldown_seconds = optional(number, 600)
  })
  description = "Instance autoscaling. `min_capacity = 0` (the default) scales in to zero instances once the queue stays empty for `scale_in_cooldown_seconds`, and adds the first instance when a request waits (HasBacklogWithoutCapacity). Between 1 and `max_capacity` instances, target tracking keeps ApproximateBacklogSizePerInstance near `target_backlog_per_instance`. `scale_out_from_zero_cooldown_seconds` must outlast a cold start. Null turns autoscaling off (the endpoint keeps initial_instance_count instances and is billed for them)."
  default     = {}

  validation {
    condition = var.autoscaling == null || try(
      var.autoscaling.min_capacity >= 0 && floor(var.autoscaling.min_capacity) == var.autoscaling.min_capacity &&
      var.autoscaling.max_capacity >= 1 && floor(var.autoscaling.max_capacity) == var.autoscaling.max_capacity &&
      var.autoscaling.min_capacity <= var.autoscaling.max_capacity,
    false)
    error_message = "The autoscaling min_capacity must be a whole number >= 0, max_capacity a whole number >= 1, and min_capacity <= max_capacity."
  }

  validation {
    condition     = var.autoscaling == null || try(var.autoscaling.target_backlog_per_instance > 0, false)
    error_message = "The autoscaling target_backlog_per_instance must be greater than 0."
  }

  validation {
    condition = var.autoscaling == null || try(
      var.autoscaling.scale_in_cooldown_seconds >= 0 && var.autoscaling.scale_out_cooldown_seconds >= 0 &&
      var.autoscaling.scale_out_from_zero_cooldown_seconds >= 60,
    false)
    error_message = "The autoscaling cooldowns must be >= 0 seconds, and scale_out_from_zero_cooldown_seconds >= 60 (it must outlast an instance's start)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource the module creates."
  default     = {}
}
