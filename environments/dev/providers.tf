provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Project     = "sagemaker-sleepwake"
      Environment = var.environment_name
      ManagedBy   = "terraform"
    })
  }
}
