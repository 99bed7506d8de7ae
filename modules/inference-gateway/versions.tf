terraform {
  # 1.9: fallback_endpoint_name and fallback_by_default are validated against other variables.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The default runtime python3.12 passes the provider's runtime validation from 5.31.0 on
      # (hashicorp/terraform-provider-aws#34944: the Lambda SDK enum that 5.31.0 ships knows it).
      version = ">= 5.31"
    }
  }
}
