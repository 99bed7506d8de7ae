variable "name" {
  type        = string
  description = "Prefix of every resource name: `<name>-gateway`, `<name>-replay`, `<name>-replay-control`, `<name>-authorizer` (functions, roles, log groups), `<name>-inference` (API), `<name>-requests` (queue, and the bucket `<name>-requests-<account id>`), `<name>-tokens` (table)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,39}$", var.name))
    error_message = "The name must be 1-40 lower-case letters, digits and hyphens, starting with a letter or digit (it is part of an S3 bucket name)."
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

variable "endpoint_name" {
  type        = string
  description = "The SageMaker endpoint this gateway fronts. It must be one of the manager's declared endpoints (a key of `manager_environment.SLEEPWAKE_ENDPOINTS`)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "The endpoint_name must be a valid endpoint name: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$."
  }
}

variable "manager_environment" {
  type        = map(string)
  description = "The manager's SLEEPWAKE_* environment (output `lambda_environment` of modules/sleep-wake-manager). The gateway and replay functions wake the endpoint through the same manager service, in process, with these settings (narrowed to `endpoint_name`)."

  validation {
    condition     = alltrue([for key in ["SLEEPWAKE_TABLE_NAME", "SLEEPWAKE_ENDPOINTS"] : contains(keys(var.manager_environment), key)])
    error_message = "The manager_environment must contain SLEEPWAKE_TABLE_NAME and SLEEPWAKE_ENDPOINTS (pass module.<manager>.lambda_environment)."
  }

  validation {
    condition     = can(jsondecode(var.manager_environment["SLEEPWAKE_ENDPOINTS"]))
    error_message = "The manager_environment.SLEEPWAKE_ENDPOINTS must be the manager's JSON endpoints map."
  }
}

variable "state_table_arn" {
  type        = string
  description = "ARN of the manager's DynamoDB state table (output `table_arn` of modules/sleep-wake-manager). The gateway writes leases, activity and queued-request records there."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/.+$", var.state_table_arn))
    error_message = "The state_table_arn must be a DynamoDB table ARN."
  }
}

variable "auth" {
  type        = string
  description = "How callers authenticate: `token` (Authorization: Bearer <token>, checked by a Lambda authorizer against hashes in the tokens table; manage tokens with tools/tokens.py) or `iam` (SigV4-signed requests from callers inside AWS, allowed by `invoke_policy_arn`)."
  default     = "token"

  validation {
    condition     = contains(["token", "iam"], var.auth)
    error_message = "The auth must be \"token\" or \"iam\"."
  }
}

variable "authorizer_cache_ttl_seconds" {
  type        = number
  description = "How long API Gateway caches the authorizer's answer per token (token auth). A revoked token keeps working for up to this long; 0 turns caching off (an authorizer call and a DynamoDB read per request)."
  default     = 300

  validation {
    condition     = var.authorizer_cache_ttl_seconds >= 0 && var.authorizer_cache_ttl_seconds <= 3600 && floor(var.authorizer_cache_ttl_seconds) == var.authorizer_cache_ttl_seconds
    error_message = "The authorizer_cache_ttl_seconds must be a whole number between 0 and 3600."
  }
}

variable "throttling_rate_limit" {
  type        = number
  description = "Steady-state requests per second the API accepts (every route); more get 429 from API Gateway."
  default     = 10

  validation {
    condition     = var.throttling_rate_limit > 0 && var.throttling_rate_limit <= 10000
    error_message = "The throttling_rate_limit must be greater than 0 and at most 10000."
  }
}

variable "throttling_burst_limit" {
  type        = number
  description = "Requests the API accepts in a burst above the rate limit (every route)."
  default     = 20

  validation {
    condition     = var.throttling_burst_limit >= 1 && var.throttling_burst_limit <= 5000 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "The throttling_burst_limit must be a whole number between 1 and 5000."
  }
}

variable "max_lease_minutes" {
  type        = number
  description = "Longest lease: POST /lease accepts 1..this many minutes, and no lease reaches further than this from now."
  default     = 240

  validation {
    condition     = var.max_lease_minutes >= 1 && var.max_lease_minutes <= 10080 && floor(var.max_lease_minutes) == var.max_lease_minutes
    error_message = "The max_lease_minutes must be a whole number between 1 and 10080 (a week)."
  }
}

variable "fallback_endpoint_name" {
  type        = string
  description = "An endpoint (e.g. a CPU serverless endpoint of a smaller model, modules/serverless-endpoint) that answers synchronous requests accepting it (`Prefer: fallback`, or all of them with `fallback_by_default`) while `endpoint_name` wakes; the answer carries `X-Sleepwake-Served-By: fallback`. The gateway gets InvokeEndpoint on it and nothing else. Null (the default): no fallback."
  default     = null

  validation {
    condition     = var.fallback_endpoint_name == null || can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.fallback_endpoint_name))
    error_message = "The fallback_endpoint_name must be null or a SageMaker endpoint name: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$."
  }

  validation {
    condition     = var.fallback_endpoint_name != var.endpoint_name
    error_message = "The fallback_endpoint_name must be another endpoint than endpoint_name."
  }
}

variable "fallback_by_default" {
  type        = bool
  description = "true: every synchronous request (without `Prefer: respond-async`) accepts the fallback answer, not only those sending `Prefer: fallback`. Needs fallback_endpoint_name."
  default     = false

  validation {
    condition     = !var.fallback_by_default || var.fallback_endpoint_name != null
    error_message = "The fallback_by_default needs a fallback_endpoint_name."
  }
}

variable "max_body_bytes" {
  type        = number
  description = "Largest request body the gateway accepts; larger ones get 413. The default, 4669440, is what fits a synchronous Lambda invocation (6 MiB) when API Gateway base64-encodes it, with 64 KiB for headers; SageMaker itself takes at most 6291456."
  default     = 4669440

  validation {
    condition     = var.max_body_bytes >= 1 && var.max_body_bytes <= 6291456 && floor(var.max_body_bytes) == var.max_body_bytes
    error_message = "The max_body_bytes must be a whole number between 1 and 6291456 (SageMaker's synchronous limit)."
  }
}

variable "request_retention_days" {
  type        = number
  description = "How long queued requests, their records and their results are kept: the queue's message retention, the records' TTL and the bucket's expiry."
  default     = 7

  validation {
    condition     = var.request_retention_days >= 1 && var.request_retention_days <= 14 && floor(var.request_retention_days) == var.request_retention_days
    error_message = "The request_retention_days must be a whole number between 1 and 14 (SQS keeps messages at most 14 days)."
  }
}

variable "result_url_expiry_seconds" {
  type        = number
  description = "Lifetime of the pre-signed result URLs GET /requests/{id} returns. A URL also stops working when the gateway role's session that signed it ends (at most a few hours)."
  default     = 3600

  validation {
    condition     = var.result_url_expiry_seconds >= 60 && var.result_url_expiry_seconds <= 43200 && floor(var.result_url_expiry_seconds) == var.result_url_expiry_seconds
    error_message = "The result_url_expiry_seconds must be a whole number between 60 and 43200."
  }
}

variable "max_receive_count" {
  type        = number
  description = "Replay attempts of a queued request before SQS moves it to the dead-letter queue."
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "The max_receive_count must be a whole number between 1 and 1000."
  }
}

variable "replay" {
  type = object({
    batch_size             = optional(number, 1)
    max_concurrency        = optional(number, 2)
    timeout_seconds        = optional(number, 300)
    invoke_timeout_seconds = optional(number, 65)
    reconcile_schedule     = optional(string, "rate(5 minutes)")
  })
  description = "The replay of queued requests: messages per invocation, concurrent invocations (the endpoint's share), the function's timeout, the time one model call may take (SageMaker real-time allows 60 s), and how often the replay switch is reconciled with the endpoint's status."
  default     = {}

  validation {
    condition     = var.replay.batch_size >= 1 && var.replay.batch_size <= 10 && floor(var.replay.batch_size) == var.replay.batch_size
    error_message = "The replay.batch_size must be a whole number between 1 and 10."
  }

  validation {
    condition     = var.replay.max_concurrency >= 2 && var.replay.max_concurrency <= 1000 && floor(var.replay.max_concurrency) == var.replay.max_concurrency
    error_message = "The replay.max_concurrency must be a whole number between 2 and 1000 (Lambda's bounds for SQS event sources)."
  }

  validation {
    condition     = var.replay.timeout_seconds >= 30 && var.replay.timeout_seconds <= 900 && floor(var.replay.timeout_seconds) == var.replay.timeout_seconds
    error_message = "The replay.timeout_seconds must be a whole number between 30 and 900."
  }

  validation {
    condition     = var.replay.invoke_timeout_seconds >= 1 && var.replay.invoke_timeout_seconds + 15 <= var.replay.timeout_seconds && floor(var.replay.invoke_timeout_seconds) == var.replay.invoke_timeout_seconds
    error_message = "The replay.invoke_timeout_seconds must be a whole number >= 1 and leave 15 s of the replay.timeout_seconds for the bookkeeping around the call."
  }

  validation {
    condition     = can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.replay.reconcile_schedule)) || can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.replay.reconcile_schedule))
    error_message = "The replay.reconcile_schedule must be rate(1 minute), rate(N minutes) (likewise hour(s)/day(s)) or a six-field cron(...)."
  }
}

variable "queue_age_alarm_minutes" {
  type        = number
  description = "Alarm when a queued request has waited longer than this (the endpoint did not wake, or the replay stayed off)."
  default     = 30

  validation {
    condition     = var.queue_age_alarm_minutes >= 5 && var.queue_age_alarm_minutes <= 20160 && floor(var.queue_age_alarm_minutes) == var.queue_age_alarm_minutes
    error_message = "The queue_age_alarm_minutes must be a whole number between 5 and 20160."
  }
}

variable "alarm_actions" {
  type        = list(string)
  description = "ARNs notified when an alarm of the module fires: a dead-lettered request, requests waiting too long, function errors."
  default     = []
}

variable "lambda_memory_mb" {
  type        = number
  description = "Memory of the gateway and replay functions, in MB (bodies up to a few MB pass through them)."
  default     = 512

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "The lambda_memory_mb must be a whole number between 128 and 10240."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the queue, the bucket, the tokens table, the log groups and the functions' environment; also used to read the state table when the manager encrypts it with this key. Null uses AWS managed keys. The key policy must let CloudWatch Logs use it."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:...:kms:<region>:<account>:key/<id>)."
  }
}

variable "endpoint_kms_key_arns" {
  type        = list(string)
  description = "KMS keys of the endpoint configuration (its `kms_key_arn`): waking the endpoint creates it, which needs kms:CreateGrant on them (restricted to grants for AWS resources)."
  default     = []

  validation {
    condition     = alltrue([for arn in var.endpoint_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", arn))])
    error_message = "Each endpoint_kms_key_arns entry must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the functions' and the API's log groups, in days (one of the values CloudWatch Logs accepts)."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
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

variable "tokens_table_deletion_protection_enabled" {
  type        = bool
  description = "Protect the tokens table from deletion (token auth). Turn it off (and apply) before destroying the module."
  default     = true
}

variable "bucket_force_destroy" {
  type        = bool
  description = "Let `terraform destroy` (or a switch that removes the gateway) delete the request bucket with the queued bodies and results still in it. They are transient (kept request_retention_days at most); false makes such a destroy stop with BucketNotEmpty until the bucket is emptied."
  default     = true
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
