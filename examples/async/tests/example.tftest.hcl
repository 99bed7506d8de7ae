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

run "plans_an_async_endpoint_that_scales_to_zero" {
  command = plan

  assert {
    condition     = module.endpoint.min_capacity == 0 && module.endpoint.max_capacity == 2
    error_message = "Between 0 and 2 instances."
  }
  assert {
    condition     = output.input_prefix == "inputs/" && module.jobs.table_name == "sentiment-async-state"
    error_message = "Inputs under inputs/, jobs recorded in <name>-async-state."
  }
}
