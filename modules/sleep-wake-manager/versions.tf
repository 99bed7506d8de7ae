terraform {
  # 1.9: the endpoints validation also looks at var.fleet (validations referring to other variables).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
