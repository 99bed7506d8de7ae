# The example plans as written (mock provider).

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

run "plans_a_serverless_endpoint_without_provisioned_concurrency" {
  command = plan

  assert {
    condition     = output.endpoint_name == "sentiment-serverless" && module.endpoint.memory_size_in_mb == 4096 && module.endpoint.provisioned_concurrency == null
    error_message = "4 GB, no provisioned concurrency: nothing is billed while idle."
  }
}
