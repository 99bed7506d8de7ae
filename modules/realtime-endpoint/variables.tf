variable "name" {
  type        = string
  description = "Endpoint name. Also the prefix of the endpoint configuration names (`<name>-<timestamp>`)."

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

variable "create_endpoint" {
  type        = bool
  description = "true: Terraform also creates the endpoint and keeps it running (always on, always billed). false (the default): Terraform only creates the endpoint configuration and never creates, updates or deletes the endpoint; the sleep/wake manager owns its lifecycle."
  default     = false
}

variable "instance_type" {
  type        = string
  description = "SageMaker hosting instance type, `ml.` prefixed. GPU families for real-time inference: `ml.g4dn.*` (T4), `ml.g5.*` (A10G), `ml.g6.*` (L4), `ml.g6e.*` (L40S), `ml.p3.*` (V100), `ml.p4d.24xlarge` (A100), `ml.p5.48xlarge` (H100)."

  validation {
    condition     = can(regex("^ml\\.[a-z0-9-]+\\.[a-z0-9-]+$", var.instance_type))
    error_message = "The instance_type must be a SageMaker instance type such as ml.g5.xlarge."
  }
}

variable "fallback_instance_types" {
  type        = list(string)
  description = "Capacity-aware wake: instance types to fall back to, in order, when `instance_type` has no capacity or hits an account limit. One endpoint configuration is created per type (same model and settings); the sleep/wake manager tries them in order and starts again at `instance_type` on the next wake. Each costs nothing until used. Empty (the default): no fallback."
  default     = []

  validation {
    condition     = alltrue([for t in var.fallback_instance_types : can(regex("^ml\\.[a-z0-9-]+\\.[a-z0-9-]+$", t))]) && length(distinct(var.fallback_instance_types)) == length(var.fallback_instance_types) && !contains(var.fallback_instance_types, var.instance_type) && length(var.fallback_instance_types) <= 5
    error_message = "The fallback_instance_types must be at most 5 distinct SageMaker instance types such as ml.g5.xlarge, none of them instance_type itself."
  }
}

variable "initial_instance_count" {
  type        = number
  description = "Number of instances the endpoint starts with."
  default     = 1

  validation {
    condition     = var.initial_instance_count >= 1 && floor(var.initial_instance_count) == var.initial_instance_count
    error_message = "The initial_instance_count must be a whole number >= 1."
  }
}

variable "variant_name" {
  type        = string
  description = "Name of the production variant; the name shows up in CloudWatch metrics and InvokeEndpoint's TargetVariant."
  default     = "primary"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.variant_name))
    error_message = "The variant_name must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$."
  }
}

variable "volume_size_in_gb" {
  type        = number
  description = "Size of the EBS volume attached to each instance, 1-512 GB. Null uses the SageMaker default. Instance types with local NVMe storage (g4dn, g5, g6, g6e, p4d, p5, ...) reject it."
  default     = null

  validation {
    condition     = var.volume_size_in_gb == null || try(var.volume_size_in_gb >= 1 && var.volume_size_in_gb <= 512 && floor(var.volume_size_in_gb) == var.volume_size_in_gb, false)
    error_message = "The volume_size_in_gb must be a whole number between 1 and 512, or null."
  }
}

variable "container_startup_health_check_timeout_in_seconds" {
  type        = number
  description = "How long the container may take to pass its first /ping health check, 60-3600 seconds. Large models need more than the default. Null uses the SageMaker default."
  default     = null

  validation {
    condition     = var.container_startup_health_check_timeout_in_seconds == null || try(var.container_startup_health_check_timeout_in_seconds >= 60 && var.container_startup_health_check_timeout_in_seconds <= 3600, false)
    error_message = "The container_startup_health_check_timeout_in_seconds must be between 60 and 3600, or null."
  }
}

variable "model_data_download_timeout_in_seconds" {
  type        = number
  description = "How long downloading and extracting the model artifact may take, 60-3600 seconds. Null uses the SageMaker default."
  default     = null

  validation {
    condition     = var.model_data_download_timeout_in_seconds == null || try(var.model_data_download_timeout_in_seconds >= 60 && var.model_data_download_timeout_in_seconds <= 3600, false)
    error_message = "The model_data_download_timeout_in_seconds must be between 60 and 3600, or null."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the instances' EBS storage volume. Must be null for instance types with local NVMe storage (g4dn, g5, g6, g6e, p4d, p5, ...): SageMaker rejects a key there, and those volumes are encrypted by the hardware. Whoever creates the endpoint (Terraform or the manager) needs kms:CreateGrant on it."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:...:kms:<region>:<account>:key/<id>)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the endpoint configuration and, when `create_endpoint` is true, the endpoint. The sleep/wake manager applies its own tags when it creates the endpoint."
  default     = {}
}
