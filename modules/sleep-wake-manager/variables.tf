variable "name" {
  type        = string
  description = "Prefix of every resource name: `<name>-manager` (function, role, log group), `<name>-state` (table), `<name>-schedule` and `<name>-state-change` (rules)."

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
  description = "The deployment zip (`make build` writes build/sleepwake.zip) and its base64-encoded SHA-256 (compute it with `filebase64sha256(path)` in the root)."

  validation {
    condition     = endswith(var.lambda_package.path, ".zip")
    error_message = "The lambda_package.path must point to a .zip file."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.lambda_package.base64sha256))
    error_message = "The lambda_package.base64sha256 must be a base64-encoded SHA-256 (44 characters), as filebase64sha256() returns."
  }
}

variable "endpoints" {
  type = map(object({
    endpoint_config_name = string
    instance_type        = string
    instance_count       = optional(number, 1)
    protected            = optional(bool, false)
    tags                 = optional(map(string), {})
  }))
  description = "Endpoints the manager owns, keyed by endpoint name. The manager creates each one from its configuration on demand and deletes it after idle; `protected` endpoints are never put to sleep; `tags` are applied to the endpoint when the manager creates it."

  validation {
    condition     = length(var.endpoints) > 0
    error_message = "The endpoints map must name at least one endpoint."
  }

  validation {
    condition     = alltrue([for name in keys(var.endpoints) : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", name))])
    error_message = "Each endpoints key must be a valid endpoint name: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$."
  }

  validation {
    condition     = alltrue([for endpoint in values(var.endpoints) : can(regex("^ml\\.[a-z0-9-]+\\.[a-z0-9-]+$", endpoint.instance_type))])
    error_message = "Each endpoint's instance_type must be a SageMaker instance type such as ml.g5.xlarge."
  }

  validation {
    condition     = alltrue([for endpoint in values(var.endpoints) : endpoint.instance_count >= 1 && floor(endpoint.instance_count) == endpoint.instance_count])
    error_message = "Each endpoint's instance_count must be a whole number >= 1."
  }

  validation {
    condition     = alltrue([for endpoint in values(var.endpoints) : length(endpoint.tags) <= 40 && alltrue([for k, v in endpoint.tags : !startswith(lower(k), "aws:")])])
    error_message = "Each endpoint may carry at most 40 tags, and tag keys must not start with aws:."
  }
}

variable "schedule_expression" {
  type        = string
  description = "How often the manager checks for idle endpoints, as an EventBridge `rate()` or `cron()` expression."
  default     = "rate(1 minute)"

  validation {
    condition = can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.schedule_expression)) || can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.schedule_expression))
    # EventBridge wants the singular unit for 1 and the plural for anything larger.
    error_message = "The schedule_expression must be rate(1 minute), rate(N minutes) (likewise hour(s)/day(s)) or a six-field cron(...)."
  }
}

variable "idle_timeout_minutes" {
  type        = number
  description = "Minutes without activity after which an endpoint is put to sleep (deleted)."
  default     = 15

  validation {
    condition     = var.idle_timeout_minutes >= 1 && var.idle_timeout_minutes <= 1440 && floor(var.idle_timeout_minutes) == var.idle_timeout_minutes
    error_message = "The idle_timeout_minutes must be a whole number between 1 and 1440."
  }
}

variable "min_in_service_minutes" {
  type        = number
  description = "Grace period: an endpoint that has been InService for less than this is never put to sleep."
  default     = 5

  validation {
    condition     = var.min_in_service_minutes >= 0 && var.min_in_service_minutes <= 1440 && floor(var.min_in_service_minutes) == var.min_in_service_minutes
    error_message = "The min_in_service_minutes must be a whole number between 0 and 1440."
  }
}

variable "wake_estimate_seconds" {
  type        = number
  description = "Expected time from wake to InService; callers get it back as `retry_after_seconds`."
  default     = 480

  validation {
    condition     = var.wake_estimate_seconds >= 1 && var.wake_estimate_seconds <= 3600 && floor(var.wake_estimate_seconds) == var.wake_estimate_seconds
    error_message = "The wake_estimate_seconds must be a whole number between 1 and 3600."
  }
}

variable "failure_backoff_seconds" {
  type        = number
  description = "Delay before the first automatic recreation of an endpoint that went to Failed; doubles on each retry."
  default     = 300

  validation {
    condition     = var.failure_backoff_seconds >= 1 && var.failure_backoff_seconds <= 86400 && floor(var.failure_backoff_seconds) == var.failure_backoff_seconds
    error_message = "The failure_backoff_seconds must be a whole number between 1 and 86400."
  }
}

variable "max_failure_retries" {
  type        = number
  description = "Automatic recreations after Failed before the manager gives up and waits for an explicit wake."
  default     = 3

  validation {
    condition     = var.max_failure_retries >= 0 && var.max_failure_retries <= 20 && floor(var.max_failure_retries) == var.max_failure_retries
    error_message = "The max_failure_retries must be a whole number between 0 and 20."
  }
}

variable "protected" {
  type        = bool
  description = "Protect every endpoint of this environment from sleep (for example during a demo or a load test)."
  default     = false
}

variable "protect_tag_key" {
  type        = string
  description = "An endpoint tag with this key and the value `true` protects that endpoint from sleep."
  default     = "sleepwake:protected"

  validation {
    condition     = length(var.protect_tag_key) >= 1 && length(var.protect_tag_key) <= 128 && !startswith(lower(var.protect_tag_key), "aws:")
    error_message = "The protect_tag_key must be 1-128 characters and must not start with aws:."
  }
}

variable "notification_topic_arn" {
  type        = string
  description = "Existing SNS topic for wake, sleep and failure notifications. Null turns notifications off unless `create_notification_topic` is true."
  default     = null

  validation {
    condition     = var.notification_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.notification_topic_arn))
    error_message = "The notification_topic_arn must be an SNS topic ARN."
  }
}

variable "create_notification_topic" {
  type        = bool
  description = "Create an encrypted SNS topic `<name>-notifications` for notifications (subscribe to it yourself). Must not be combined with `notification_topic_arn`."
  default     = false
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the manager's CloudWatch log group, in days (one of the values CloudWatch Logs accepts)."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the state table, the log group, the function's environment and a created notification topic. Null uses AWS managed keys. The key policy must let CloudWatch Logs (logs.<region>.amazonaws.com) use it."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:...:kms:<region>:<account>:key/<id>)."
  }
}

variable "endpoint_kms_key_arns" {
  type        = list(string)
  description = "KMS keys of the managed endpoint configurations (their `kms_key_arn`). Creating an endpoint with a volume key needs kms:CreateGrant on it, so the manager gets that, restricted to grants for AWS resources."
  default     = []

  validation {
    condition     = alltrue([for arn in var.endpoint_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", arn))])
    error_message = "Each endpoint_kms_key_arns entry must be a KMS key ARN."
  }
}

variable "alarm_actions" {
  type        = list(string)
  description = "ARNs notified when the manager's error or throttle alarm fires (typically an SNS topic)."
  default     = []
}

variable "lambda_memory_mb" {
  type        = number
  description = "Memory of the manager function, in MB."
  default     = 256

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "The lambda_memory_mb must be a whole number between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  type        = number
  description = "Timeout of the manager function, in seconds."
  default     = 60

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "The lambda_timeout_seconds must be a whole number between 1 and 900."
  }
}

variable "reserved_concurrency" {
  type        = number
  description = "Reserved concurrent executions of the manager function. Null leaves it unreserved. Correctness never depends on it: concurrent wakes are serialised by conditional writes."
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "The reserved_concurrency must be a whole number >= 1, or null (0 would disable the function)."
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
  description = "Environment name, shown in the manager's logs and notifications."
  default     = "default"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.environment_name))
    error_message = "The environment_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "log_level" {
  type        = string
  description = "Log level of the manager: DEBUG, INFO, WARNING, ERROR or CRITICAL."
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "The log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL."
  }
}

variable "table_deletion_protection_enabled" {
  type        = bool
  description = "Protect the state table from deletion. Turn it off (and apply) before destroying the module."
  default     = true
}

variable "role_permissions_boundary_arn" {
  type        = string
  description = "Permissions boundary for the manager's IAM role."
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
