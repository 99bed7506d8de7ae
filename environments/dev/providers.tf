provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "sagemaker-sleepwake"
      Environment = var.environment_name
      ManagedBy   = "terraform"
    }
  }
}
