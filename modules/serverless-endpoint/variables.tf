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
  description = "Name of the SageMaker model to host (for example `module.model.model_name`). Serverless endpoints run CPU containers only, and the model must have no `vpc_config` and no network isolation: SageMaker rejects both for serverless inference."

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.model_name))
    error_message = "The model_name must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$."
  }
}

variable "serverless_config" {
  type = object({
    memory_size_in_mb       = optional(number, 2048)
    max_concurrency         = optional(number, 20)
    provisioned_concurrency = optional(number)
  })
  description = "Memory per concurrent invocation (1024-6144 MB in steps of 1024; more memory also brings more vCPUs), the most concurrent invocations (1-200; every serverless endpoint of the account and region draws on one regional quota), and optionally provisioned concurrency kept warm (1-200 and at most max_concurrency; billed while provisioned, idle or not). The limits are checked here because SageMaker would only reject them at apply time."
  default     = {}

  validation {
    condition     = contains([1024, 2048, 3072, 4096, 5120, 6144], var.serverless_config.memory_size_in_mb)
    error_message = "The serverless_config.memory_size_in_mb must be one of 1024, 2048, 3072, 4096, 5120, 6144 (1-6 GB in steps of 1024 MB)."
  }

  validation {
    condition     = var.serverless_config.max_concurrency >= 1 && var.serverless_config.max_concurrency <= 200 && floor(var.serverless_config.max_concurrency) == var.serverless_config.max_concurrency
    error_message = "The serverless_config.max_concurrency must be a whole number between 1 and 200."
  }

  validation {
    condition     = var.serverless_config.provisioned_concurrency == null || try(var.serverless_config.provisioned_concurrency >= 1 && var.serverless_config.provisioned_concurrency <= 200 && floor(var.serverless_config.provisioned_concurrency) == var.serverless_config.provisioned_concurrency, false)
    error_message = "The serverless_config.provisioned_concurrency must be a whole number between 1 and 200, or null (no provisioned concurrency: nothing is billed while idle)."
  }

  validation {
    # In one object, so the cross-check needs no variable-to-variable reference (Terraform >= 1.9).
    condition     = var.serverless_config.provisioned_concurrency == null || try(var.serverless_config.provisioned_concurrency <= var.serverless_config.max_concurrency, false)
    error_message = "The serverless_config.provisioned_concurrency must not exceed serverless_config.max_concurrency."
  }
}

variable "variant_name" {
  type        = string
  description = "Name of the production variant; it shows up in CloudWatch metrics."
  default     = "primary"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.variant_name))
    error_message = "The variant_name must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the endpoint configuration and the endpoint."
  default     = {}
}
