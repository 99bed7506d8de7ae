# The example plans as written (mock provider; tests/sleepwake.zip stands in for build/sleepwake.zip).

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }
  mock_data "aws_region" {
    defaults = {
      id   = "us-east-1"
      name = "us-east-1"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  lambda_package_path = "tests/sleepwake.zip"
}

run "plans_a_sleeping_endpoint_behind_the_gateway" {
  command = plan

  assert {
    condition     = module.endpoint.managed_by == "sleep-wake-manager" && module.manager.function_name == "sentiment-manager"
    error_message = "The manager, not Terraform, owns the endpoint."
  }
  assert {
    condition     = module.gateway.auth == "token" && module.gateway.tokens_table_name != null
    error_message = "The gateway checks bearer tokens."
  }
  assert {
    condition     = module.manager.lambda_environment["SLEEPWAKE_IDLE_TIMEOUT_SECONDS"] == "900" && module.endpoint.instance_type == "ml.g5.xlarge"
    error_message = "A g5 endpoint that sleeps after 15 idle minutes."
  }
}
