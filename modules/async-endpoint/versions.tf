terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # async_inference_config.output_config.s3_failure_path and the split aws_s3_bucket_* resources are 4.x;
      # 5.0 is the oldest major this module is written for. Tested with 5.100.
      version = ">= 5.0"
    }
  }
}
