terraform {
  # 1.9: fallback_instance_types is validated against instance_type (cross-variable validation).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Every argument used here predates 5.0; 5.0 is the oldest major this module is written for
      # (data.aws_region.current.id, aws_iam_policy_document without empty sids). Tested with 5.100.
      version = ">= 5.0"
    }
  }
}
