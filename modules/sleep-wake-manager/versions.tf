terraform {
  # 1.9: the endpoints validation also looks at var.fleet (validations referring to other variables).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.1.0 added aws_lambda_invocation.lifecycle_scope = "CRUD" (the teardown, #29367); the default runtime
      # python3.12 passes the runtime validation from 5.31.0 on (#34944). The later of the two.
      version = ">= 5.31"
    }
  }
}
