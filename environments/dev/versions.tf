# Shared by every environment (staging and prod link this file); each root commits its own
# .terraform.lock.hcl. Terraform matches .terraform-version. The provider range is what `make test` runs
# (5.100, from the mirror) up to the next major not yet tried; README.md says how to upgrade to 6.x.
terraform {
  required_version = "1.11.4"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}
