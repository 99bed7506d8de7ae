variable "name" {
  type        = string
  description = "Base name of the model. The model is named `<name>-<8 hex chars>`, the hash of everything that forces a new model, so a change rolls out as a new model instead of clashing with the old one. Also names the created execution role (`<name>-sagemaker`)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9])*$", var.name)) && length(var.name) <= 54
    error_message = "The name must match ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$ and be at most 54 characters (SageMaker allows 63; 9 are taken by the hash suffix)."
  }
}

variable "image" {
  type        = string
  description = "Inference container image URI, for example an AWS Deep Learning Container `763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:<tag>`. An ECR image must be in the model's region; the created role may pull from that repository only."

  validation {
    condition     = can(regex("^[^\\s]+$", var.image)) && length(var.image) <= 255
    error_message = "The image must be a non-empty URI without whitespace, at most 255 characters."
  }
}

variable "model_data_url" {
  type        = string
  description = "S3 URI of the model artifact (`s3://bucket/path/model.tar.gz`, in the model's region), or null when the image carries the model. The created role may read exactly this object (or, for a URI ending in `/`, everything under that prefix)."
  default     = null

  validation {
    condition     = var.model_data_url == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", var.model_data_url))
    error_message = "The model_data_url must look like s3://bucket/key."
  }
}

variable "environment" {
  type        = map(string)
  description = "Environment variables of the inference container (for example `HF_TASK`, `SM_NUM_GPUS`)."
  default     = {}

  validation {
    # The key length is checked with length(): RE2 refuses repetition counts above 1000, so {0,1023} in the
    # regex would make every key fail.
    condition     = length(var.environment) <= 100 && alltrue([for k, v in var.environment : can(regex("^[a-zA-Z_][a-zA-Z0-9_]*$", k)) && length(k) <= 1024 && length(v) <= 1024])
    error_message = "SageMaker allows at most 100 container environment variables, keys matching ^[a-zA-Z_][a-zA-Z0-9_]*$ and keys and values of at most 1024 characters."
  }
}

variable "execution_role_arn" {
  type        = string
  description = "ARN of an existing SageMaker execution role. When null (the default) the module creates a least-privilege role."
  default     = null

  validation {
    condition     = var.execution_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.execution_role_arn))
    error_message = "The execution_role_arn must be an IAM role ARN."
  }
}

variable "role_permissions_boundary_arn" {
  type        = string
  description = "Permissions boundary for the created execution role (ignored when `execution_role_arn` is given)."
  default     = null

  validation {
    condition     = var.role_permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary_arn))
    error_message = "The role_permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "additional_s3_read_uris" {
  type        = list(string)
  description = "Extra S3 locations the created role may read (for example a second artifact or a tokenizer). A URI ending in `/` grants everything under that prefix; any other URI grants exactly that object."
  default     = []

  validation {
    condition     = alltrue([for uri in var.additional_s3_read_uris : can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.*$", uri))])
    error_message = "Each additional_s3_read_uris entry must look like s3://bucket/ or s3://bucket/prefix/ or s3://bucket/key."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the model artifact in S3 (SSE-KMS). The created role gets kms:Decrypt on it. Null when the artifact uses SSE-S3."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:...:kms:<region>:<account>:key/<id>)."
  }
}

variable "vpc_config" {
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  description = "Run the model containers in these private subnets and security groups. Null (the default) keeps them in the SageMaker service network. When set, the created role gets the EC2 network-interface permissions SageMaker needs."
  default     = null

  validation {
    condition = var.vpc_config == null || (
      length(try(var.vpc_config.subnet_ids, [])) >= 1 && length(try(var.vpc_config.subnet_ids, [])) <= 16 &&
      length(try(var.vpc_config.security_group_ids, [])) >= 1 && length(try(var.vpc_config.security_group_ids, [])) <= 5
    )
    error_message = "The vpc_config needs 1-16 subnet_ids and 1-5 security_group_ids."
  }

  validation {
    condition = var.vpc_config == null || alltrue(concat(
      [for id in try(var.vpc_config.subnet_ids, []) : can(regex("^subnet-[0-9a-f]+$", id))],
      [for id in try(var.vpc_config.security_group_ids, []) : can(regex("^sg-[0-9a-f]+$", id))],
    ))
    error_message = "The vpc_config subnet_ids must look like subnet-0123abcd and security_group_ids like sg-0123abcd."
  }
}

variable "enable_network_isolation" {
  type        = bool
  description = "Block all network calls from the container. SageMaker still downloads `model_data_url` for it. Set to false for containers that fetch models at start-up (for example from the Hugging Face Hub)."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource the module creates."
  default     = {}
}
