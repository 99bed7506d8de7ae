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
    keep_warm            = optional(string)
    fallback_configs = optional(list(object({
      endpoint_config_name = string
      instance_type        = string
    })), [])
  }))
  description = "Endpoints declared in Terraform, keyed by endpoint name. The manager creates each one from its configuration on demand and deletes it after idle; `protected` endpoints are never put to sleep; `tags` are applied to the endpoint when the manager creates it; `keep_warm` is a keep-warm schedule (see the README); `fallback_configs` are the configurations (same model, other instance types, in order) a wake moves to when the preferred type has no capacity or hits an account limit (modules/realtime-endpoint output `endpoint_configs` minus its first entry). May be empty when `fleet` is set."
  default     = {}

  validation {
    # Cross-variable validation needs Terraform >= 1.9 (see versions.tf).
    condition     = length(var.endpoints) > 0 || var.fleet != null
    error_message = "Nothing to manage: name at least one endpoint in endpoints, or turn on fleet mode (fleet = {})."
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
    condition     = alltrue([for endpoint in values(var.endpoints) : alltrue([for c in endpoint.fallback_configs : can(regex("^ml\\.[a-z0-9-]+\\.[a-z0-9-]+$", c.instance_type)) && c.endpoint_config_name != ""]) && length(distinct(concat([endpoint.instance_type], [for c in endpoint.fallback_configs : c.instance_type]))) == 1 + length(endpoint.fallback_configs) && length(distinct(concat([endpoint.endpoint_config_name], [for c in endpoint.fallback_configs : c.endpoint_config_name]))) == 1 + length(endpoint.fallback_configs)])
    error_message = "Each endpoint's fallback_configs must name non-empty configurations and SageMaker instance types such as ml.g5.xlarge, no instance type or configuration twice (the preferred one included)."
  }

  validation {
    condition     = alltrue([for endpoint in values(var.endpoints) : endpoint.instance_count >= 1 && floor(endpoint.instance_count) == endpoint.instance_count])
    error_message = "Each endpoint's instance_count must be a whole number >= 1."
  }

  validation {
    condition     = alltrue([for endpoint in values(var.endpoints) : length(endpoint.tags) <= 40 && alltrue([for k, v in endpoint.tags : !startswith(lower(k), "aws:")])])
    error_message = "Each endpoint may carry at most 40 tags, and tag keys must not start with aws:."
  }

  # keep_warm: the grammar of sleepwake.domain.schedule, as one RE2 regex (sleepwake.domain.schedule.KEEP_WARM_PATTERN):
  # windows separated by ";", each `DAYS HH:MM-HH:MM [ZONE]`; DAYS is daily, a day, a range or a comma list
  # (Mon..Sun, case-insensitive); two-digit hours and minutes, the end may be 24:00. Whether the zone exists is
  # the next validation. tests/terraform/test_manager_module.py holds both to KeepWarm.parse over good and bad
  # samples, with Python's re and with Terraform's own regex().
  validation {
    condition     = alltrue([for endpoint in values(var.endpoints) : endpoint.keep_warm == null || can(regex("(?i)^\\s*(?:daily|(?:mon|tue|wed|thu|fri|sat|sun)(?:-(?:mon|tue|wed|thu|fri|sat|sun))?(?:,(?:mon|tue|wed|thu|fri|sat|sun)(?:-(?:mon|tue|wed|thu|fri|sat|sun))?)*)\\s+(?:[01][0-9]|2[0-3]):[0-5][0-9]-(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)(?:\\s+[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*)?(?:\\s*;\\s*(?:daily|(?:mon|tue|wed|thu|fri|sat|sun)(?:-(?:mon|tue|wed|thu|fri|sat|sun))?(?:,(?:mon|tue|wed|thu|fri|sat|sun)(?:-(?:mon|tue|wed|thu|fri|sat|sun))?)*)\\s+(?:[01][0-9]|2[0-3]):[0-5][0-9]-(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)(?:\\s+[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*)?)*\\s*$", endpoint.keep_warm))])
    error_message = "Each endpoint's keep_warm must be null or a schedule such as \"Mon-Fri 09:00-18:00 Europe/Paris\" or \"daily 07:30-20:00; Sat,Sun 10:00-14:00 America/New_York\": windows separated by ;, each DAYS HH:MM-HH:MM [ZONE], where DAYS is daily, a day (Mon..Sun), a range (Mon-Fri, Fri-Mon) or a list without spaces (Sat,Sun or Mon,Wed-Fri); hours and minutes have two digits and the end may be 24:00; an end not after the start runs into the next day (\"Fri 22:00-02:00\"); ZONE is an IANA time zone, UTC when left out."
  }

  validation {
    # The zone follows the end time; it must be one the manager can load (time_zones.tf). Syntax errors are left
    # to the validation above (try(..., true)).
    condition = alltrue([for endpoint in values(var.endpoints) : endpoint.keep_warm == null || try(alltrue([
      for zone in regexall(":[0-9]{2}\\s+([^\\s;]+)", endpoint.keep_warm) : contains(local.keep_warm_time_zones, zone[0])
    ]), true)])
    error_message = "A keep_warm window names an unknown time zone: use an IANA name such as Europe/Paris, America/New_York or UTC, in its exact case (e.g. \"Mon-Fri 09:00-18:00 Europe/Paris\")."
  }
}

variable "fleet" {
  type = object({
    tag_key              = optional(string, "auto-maintain")
    tag_value            = optional(string, "true")
    keep_warm_tag_key    = optional(string, "sleepwake:keep-warm")
    max_deletes_per_tick = optional(number, 10)
  })
  description = "Fleet mode: also manage every endpoint of this account and region that carries the tag `tag_key = tag_value` (found through the tagging API), including endpoints deployed outside Terraform. `keep_warm_tag_key` names the tag that holds a fleet endpoint's keep-warm schedule. `max_deletes_per_tick` caps how many idle endpoints one tick deletes (the blast radius of a bad policy or clock); the rest wait for the next tick and their status says so. Null (the default) turns fleet mode off; `{}` turns it on with the defaults."
  default     = null

  validation {
    # Tag character rules of SageMaker (letters, spaces, digits and _ . : / = + - @; keys 1-128, values 1-256
    # here because an empty opt-in value would be too easy to match). The key must not contain "=": the
    # manager receives the tag as SLEEPWAKE_FLEET_TAG="key=value" and splits at the first "=". Leading or
    # trailing spaces would be stripped by the manager, so they are refused.
    condition = var.fleet == null || try(
      can(regex("^[\\p{L}\\p{N}_.:/+@-]([\\p{L}\\p{Z}\\p{N}_.:/+@-]{0,126}[\\p{L}\\p{N}_.:/+@-])?$", var.fleet.tag_key)) &&
      can(regex("^[\\p{L}\\p{N}_.:/=+@-]([\\p{L}\\p{Z}\\p{N}_.:/=+@-]{0,254}[\\p{L}\\p{N}_.:/=+@-])?$", var.fleet.tag_value)) &&
      !startswith(lower(var.fleet.tag_key), "aws:"),
      false
    )
    error_message = "The fleet tag_key must be 1-128 characters and tag_value 1-256 characters of letters, digits, spaces and _ . : / + - @ (and = in the value only), without leading or trailing spaces; the key must not start with aws:."
  }

  validation {
    condition = var.fleet == null || try(
      can(regex("^[\\p{L}\\p{N}_.:/=+@-]([\\p{L}\\p{Z}\\p{N}_.:/=+@-]{0,126}[\\p{L}\\p{N}_.:/=+@-])?$", var.fleet.keep_warm_tag_key)) &&
      !startswith(lower(var.fleet.keep_warm_tag_key), "aws:") &&
      var.fleet.keep_warm_tag_key != var.fleet.tag_key,
      false
    )
    error_message = "The fleet keep_warm_tag_key must be a tag key of 1-128 letters, digits, spaces and _ . : / = + - @ (no leading or trailing space, not starting with aws:) and differ from tag_key."
  }

  validation {
    condition     = var.fleet == null || try(var.fleet.max_deletes_per_tick >= 1 && var.fleet.max_deletes_per_tick <= 1000 && floor(var.fleet.max_deletes_per_tick) == var.fleet.max_deletes_per_tick, false)
    error_message = "The fleet max_deletes_per_tick must be a whole number from 1 to 1000."
  }
}

variable "cloudwatch_activity" {
  type        = bool
  description = "Count the AWS/SageMaker `Invocations` metric (summed over all variants) as activity, so endpoints stay awake while used without any change to the calling code. CloudWatch publishes it a few minutes late; the grace period `min_in_service_minutes` covers that."
  default     = true
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

variable "policy" {
  type        = string
  description = "Idle policy deciding when to sleep and when to pre-warm (sleepwake.domain.policy; compare them on your own traffic with `python -m sleepwake_sim.simulate`): `adaptive` learns each endpoint's idle gaps (sleeps when the next request is predictably far, pre-warms before it), `fixed` sleeps after `idle_timeout_minutes`, `breakeven` after the wake's cost in minutes, `always-on` never; also the presets `fixed-15-15` and `alarm-3x5+5`."
  default     = "adaptive"

  validation {
    condition     = contains(["adaptive", "fixed", "breakeven", "always-on", "fixed-15-15", "alarm-3x5+5"], var.policy)
    error_message = "The policy must be one of adaptive, fixed, breakeven, always-on, fixed-15-15, alarm-3x5+5."
  }
}

variable "cold_start_penalty_seconds" {
  type        = number
  description = "What one request that has to wait for a wake is worth to you, in seconds of the instance's price; the adaptive and breakeven policies weigh sleeping against it. Null: the wake estimate (a waiting request is worth as much as the wake itself)."
  default     = null

  validation {
    condition     = var.cold_start_penalty_seconds == null || try(var.cold_start_penalty_seconds >= 0 && floor(var.cold_start_penalty_seconds) == var.cold_start_penalty_seconds, false)
    error_message = "The cold_start_penalty_seconds must be null or a whole number >= 0."
  }
}

variable "idle_timeout_minutes" {
  type        = number
  description = "The `fixed` policy: minutes without activity after which an endpoint is put to sleep (deleted)."
  default     = 15

  validation {
    condition     = var.idle_timeout_minutes >= 1 && var.idle_timeout_minutes <= 1440 && floor(var.idle_timeout_minutes) == var.idle_timeout_minutes
    error_message = "The idle_timeout_minutes must be a whole number between 1 and 1440."
  }
}

variable "min_in_service_minutes" {
  type        = number
  description = "Grace period: an endpoint that has been InService for less than this is never put to sleep (it also covers CloudWatch's delay in publishing invocations). The simulator uses the same default."
  default     = 2

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

variable "create_dashboard" {
  type        = bool
  description = "Create a CloudWatch dashboard `<name>-sleepwake`: invocations per endpoint, state, idle time, wakes, sleeps and estimated cost per endpoint (from the manager's logs), notifications and the manager's own errors and duration."
  default     = true
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

variable "hourly_price_overrides" {
  type        = map(number)
  description = "Your prices, in USD per instance-hour, by instance type (e.g. `{ \"ml.g5.xlarge\" = 1.01 }` for a savings plan or another region): they replace the manager's on-demand us-east-1 table (sleepwake/domain/pricing.py) in `status`, notifications, the report and the dashboard's cost. Empty (the default): the table."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.hourly_price_overrides : can(regex("^ml\\.[a-z0-9-]+\\.[a-z0-9-]+$", k)) && v >= 0])
    error_message = "The hourly_price_overrides keys must be SageMaker instance types such as ml.g5.xlarge, and the prices (USD per instance-hour) >= 0."
  }
}

variable "delete_endpoints_on_destroy" {
  type        = bool
  description = "When the manager is destroyed (terraform destroy, or a switch to another inference mode), delete the endpoints it manages first, so none keeps running unmanaged. Terraform invokes the manager for this (aws_lambda_invocation, CRUD scope), so the credentials applying need lambda:InvokeFunction on it."
  default     = true
}
