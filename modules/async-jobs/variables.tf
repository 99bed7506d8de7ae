variable "name" {
  type        = string
  description = "Prefix of every resource name: `<name>-async-trigger` and `<name>-async-notify` (functions, roles, log groups), `<name>-async-state` (table), `<name>-async-dead-letter` (queue)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,39}$", var.name))
    error_message = "The name must be 1-40 characters of letters, digits, hyphens and underscores, starting with a letter or digit."
  }
}

variable "lambda_package" {
  type = object({
    path         = string
    base64sha256 = string
  })
  description = "The deployment zip (`make build` writes build/sleepwake.zip) and its base64-encoded SHA-256 (`filebase64sha256(path)` in the root)."

  validation {
    condition     = endswith(var.lambda_package.path, ".zip")
    error_message = "The lambda_package.path must point to a .zip file."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.lambda_package.base64sha256))
    error_message = "The lambda_package.base64sha256 must be a base64-encoded SHA-256 (44 characters), as filebase64sha256() returns."
  }
}

variable "endpoint_name" {
  type        = string
  description = "The async endpoint the trigger submits to (`module.<async-endpoint>.endpoint_name`)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "The endpoint_name must be a SageMaker endpoint name."
  }
}

variable "input_bucket_name" {
  type        = string
  description = "Bucket whose uploads under `input_prefix` are submitted. The module owns its S3 event notification configuration."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.input_bucket_name))
    error_message = "The input_bucket_name must be an S3 bucket name."
  }
}

variable "input_prefix" {
  type        = string
  description = "Key prefix of the inputs; only uploads under it are submitted."
  default     = "inputs/"

  validation {
    condition     = can(regex("^[^/\\s][^\\s]*/$", var.input_prefix))
    error_message = "The input_prefix must be a key prefix ending in \"/\" (for example inputs/), without a leading slash."
  }
}

variable "failed_prefix" {
  type        = string
  description = "Key prefix, in the input bucket, under which failed inputs are copied with their error (`<failed_prefix><key below input_prefix>` and `.error.json` beside it). Must not overlap `input_prefix`, or a copy would be submitted again."
  default     = "failed/"

  validation {
    condition     = can(regex("^[^/\\s][^\\s]*/$", var.failed_prefix))
    error_message = "The failed_prefix must be a key prefix ending in \"/\" (for example failed/), without a leading slash."
  }
}

variable "result_locations" {
  type        = list(string)
  description = "S3 URIs (prefixes) where SageMaker writes results and failure payloads (`output_path` and `failure_path` of modules/async-endpoint); applications may read below them."

  validation {
    condition     = length(var.result_locations) > 0 && alltrue([for uri in var.result_locations : can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.*$", uri))])
    error_message = "The result_locations must be one or more s3://bucket/prefix/ URIs."
  }
}

variable "success_topic_arn" {
  type        = string
  description = "SNS topic SageMaker notifies on success; the notification function subscribes to it."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.success_topic_arn))
    error_message = "The success_topic_arn must be an SNS topic ARN."
  }
}

variable "error_topic_arn" {
  type        = string
  description = "SNS topic SageMaker notifies on failure; the notification function subscribes to it."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.error_topic_arn))
    error_message = "The error_topic_arn must be an SNS topic ARN."
  }
}

variable "default_content_type" {
  type        = string
  description = "Content type sent to the endpoint for inputs uploaded without one (S3 reports them as binary/octet-stream)."
  default     = "application/json"

  validation {
    condition     = can(regex("^[\\w.+-]+/[\\w.+-]+(;.*)?$", var.default_content_type))
    error_message = "The default_content_type must be a MIME type such as application/json."
  }
}

variable "request_ttl_seconds" {
  type        = number
  description = "How long a request may wait in SageMaker's queue before it expires (60-21600). Null uses SageMaker's default, 6 hours."
  default     = null

  validation {
    condition     = var.request_ttl_seconds == null || try(var.request_ttl_seconds >= 60 && var.request_ttl_seconds <= 21600, false)
    error_message = "The request_ttl_seconds must be between 60 and 21600, or null."
  }
}

variable "invocation_timeout_seconds" {
  type        = number
  description = "How long the model may work on one request (1-3600). Null uses SageMaker's default, 15 minutes."
  default     = null

  validation {
    condition     = var.invocation_timeout_seconds == null || try(var.invocation_timeout_seconds >= 1 && var.invocation_timeout_seconds <= 3600, false)
    error_message = "The invocation_timeout_seconds must be between 1 and 3600, or null."
  }
}

variable "record_ttl_days" {
  type        = number
  description = "Days an input's status record is kept after its last change (DynamoDB TTL)."
  default     = 30

  validation {
    condition     = var.record_ttl_days >= 1 && var.record_ttl_days <= 3650 && floor(var.record_ttl_days) == var.record_ttl_days
    error_message = "The record_ttl_days must be a whole number between 1 and 3650."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the table, logs, function environments and dead-letter queue, and the key of the input bucket and result topics when they use one. Null uses AWS managed keys."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:...:kms:<region>:<account>:key/<id>)."
  }
}

variable "alarm_actions" {
  type        = list(string)
  description = "ARNs notified when events land in the dead-letter queue (typically an SNS topic)."
  default     = []
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the functions' log groups, in days (a value CloudWatch Logs accepts)."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "lambda_memory_mb" {
  type        = number
  description = "Memory of each function, in MB."
  default     = 256

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "The lambda_memory_mb must be a whole number between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  type        = number
  description = "Timeout of each function, in seconds. A trigger's claim on an input lasts this plus 30 seconds."
  default     = 30

  validation {
    condition     = var.lambda_timeout_seconds >= 3 && var.lambda_timeout_seconds <= 900 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "The lambda_timeout_seconds must be a whole number between 3 and 900."
  }
}

variable "reserved_concurrency" {
  type        = number
  description = "Reserved concurrent executions of each function. Null leaves them unreserved; correctness never depends on it."
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "The reserved_concurrency must be a whole number >= 1, or null (0 would disable the functions)."
  }
}

variable "runtime" {
  type        = string
  description = "Lambda runtime. Must match the runtime the package was built for (`make build` targets python3.12)."
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.[0-9]+$", var.runtime))
    error_message = "The runtime must be a Python runtime such as python3.12."
  }
}

variable "architectures" {
  type        = list(string)
  description = "Lambda instruction set architecture. Must match the package's compiled dependencies (`make build` targets arm64)."
  default     = ["arm64"]

  validation {
    condition     = length(var.architectures) == 1 && alltrue([for a in var.architectures : contains(["arm64", "x86_64"], a)])
    error_message = "The architectures must be exactly one of [\"arm64\"] or [\"x86_64\"]."
  }
}

variable "environment_name" {
  type        = string
  description = "Environment name, shown in the functions' logs."
  default     = "default"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.environment_name))
    error_message = "The environment_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "log_level" {
  type        = string
  description = "Log level of the functions: DEBUG, INFO, WARNING, ERROR or CRITICAL."
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "The log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL."
  }
}

variable "table_deletion_protection_enabled" {
  type        = bool
  description = "Protect the state table from deletion. Off by default: the table holds job statuses only (the inputs and results are in S3), and protection would stop an environment switching away from async mode until it is turned off."
  default     = false
}

variable "role_permissions_boundary_arn" {
  type        = string
  description = "Permissions boundary for the functions' IAM roles."
  default     = null

  validation {
    condition     = var.role_permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary_arn))
    error_message = "The role_permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource the module creates."
  default     = {}
}
