# Every `validation` block is broken by exactly one run, and each run breaks at most one block of each
# variable it lists in expect_failures (Terraform fails the run if any listed variable is accepted), so a
# variable with N blocks appears in N runs; tools/tf_validation_coverage.py checks that none is left out.
# Inputs not set in a run keep the valid values below, which tests/main.tftest.hcl shows to pass.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name       = "sentiment-serverless"
  model_name = "sentiment-0a1b2c3d"
}

run "invalid_inputs_1" {
  command = plan

  variables {
    # rejects endpoint name with underscore
    name = "sentiment_serverless"
    # rejects model name too long
    model_name = "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm"
    # rejects memory off the 1024 mb steps
    serverless_config = { memory_size_in_mb = 1500 }
    # rejects variant name with space
    variant_name = "primary variant"
  }

  expect_failures = [
    var.name,
    var.model_name,
    var.serverless_config,
    var.variant_name,
  ]
}

run "invalid_inputs_2" {
  command = plan

  variables {
    # rejects max concurrency above 200
    serverless_config = { max_concurrency = 201 }
  }

  expect_failures = [
    var.serverless_config,
  ]
}

run "invalid_inputs_3" {
  command = plan

  variables {
    # rejects provisioned concurrency zero
    serverless_config = { max_concurrency = 200, provisioned_concurrency = 0 }
  }

  expect_failures = [
    var.serverless_config,
  ]
}

run "invalid_inputs_4" {
  command = plan

  variables {
    # rejects provisioned above max concurrency
    serverless_config = { max_concurrency = 10, provisioned_concurrency = 11 }
  }

  expect_failures = [
    var.serverless_config,
  ]
}
