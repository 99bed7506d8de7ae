terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.1.0 added serverless_config.provisioned_concurrency (hashicorp/terraform-provider-aws#31398).
      version = ">= 5.1"
    }
  }
}
