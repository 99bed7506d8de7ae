variable "region" {
  type        = string
  description = "AWS region to deploy to. The GPU instance type must be available for SageMaker hosting there."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "The region must be an AWS region name such as us-east-1."
  }
}

variable "name" {
  type        = string
  description = "Name of this deployment: the endpoint name and the prefix of every other resource name."
  default     = "sleepwake-dev"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9])*$", var.name)) && length(var.name) <= 40
    error_message = "The name must match ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$ and be at most 40 characters."
  }
}

variable "environment_name" {
  type        = string
  description = "Environment name, in tags, logs and notifications."
  default     = "dev"
}

variable "image_uri" {
  type        = string
  description = "Inference container image, for example an AWS Deep Learning Container for Hugging Face models."
}

variable "model_data_url" {
  type        = string
  description = "S3 URI of the model artifact (model.tar.gz)."

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
  description = "KMS key of the model artifact when the bucket uses SSE-KMS; null for SSE-S3."
  default     = null
}

variable "instance_type" {
  type        = string
  description = "GPU instance type of the endpoint."
  default     = "ml.g4dn.xlarge"
}

variable "instance_count" {
  type        = number
  description = "Instances the endpoint runs with while awake."
  default     = 1
}

variable "container_startup_health_check_timeout_in_seconds" {
  type        = number
  description = "Time the container may take to pass its first health check (60-3600 s); raise it for large models."
  default     = 600
}

variable "idle_timeout_minutes" {
  type        = number
  description = "Minutes without activity before the endpoint is put to sleep."
  default     = 15
}

variable "protected" {
  type        = bool
  description = "Never put the endpoint to sleep for idleness (it is still created only on demand)."
  default     = false
}

variable "notification_topic_arn" {
  type        = string
  description = "Existing SNS topic for wake/sleep/failure notifications and the manager's alarms; null turns them off."
  default     = null
}

variable "log_level" {
  type        = string
  description = "Log level of the manager."
  default     = "INFO"
}

variable "lambda_package_path" {
  type        = string
  description = "Path of the Lambda zip. Null uses build/sleepwake.zip at the repository root, where `make build` writes it."
  default     = null
}

variable "table_deletion_protection_enabled" {
  type        = bool
  description = "Deletion protection of the state table. Off in dev so `terraform destroy` works; keep it on elsewhere."
  default     = false
}
