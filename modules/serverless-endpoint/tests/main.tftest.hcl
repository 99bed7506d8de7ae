# The defaults plan, and each input reaches the endpoint configuration (mock provider: nothing is created).

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name       = "sentiment-serverless"
  model_name = "sentiment-0a1b2c3d"
}

run "defaults_plan_a_serverless_endpoint_without_provisioned_concurrency" {
  command = plan

  assert {
    condition     = aws_sagemaker_endpoint.this.name == "sentiment-serverless"
    error_message = "The endpoint takes the name input."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.name_prefix == "sentiment-serverless-"
    error_message = "Configurations roll over under a name prefix (they are immutable)."
  }
  assert {
    condition = (
      aws_sagemaker_endpoint_configuration.this.production_variants[0].serverless_config[0].memory_size_in_mb == 2048 &&
      aws_sagemaker_endpoint_configuration.this.production_variants[0].serverless_config[0].max_concurrency == 20 &&
      aws_sagemaker_endpoint_configuration.this.production_variants[0].serverless_config[0].provisioned_concurrency == null
    )
    error_message = "Defaults: 2048 MB, 20 concurrent invocations, no provisioned concurrency ($0 while idle)."
  }
  assert {
    condition     = output.provisioned_concurrency == null && output.endpoint_arn == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/sentiment-serverless"
    error_message = "Outputs: no provisioned concurrency, and the endpoint ARN known at plan time."
  }
}

run "every_memory_step_and_the_concurrency_bounds_pass" {
  command = plan

  variables {
    serverless_config = { memory_size_in_mb = 6144, max_concurrency = 200, provisioned_concurrency = 200 }
  }

  assert {
    condition     = output.memory_size_in_mb == 6144 && output.max_concurrency == 200 && output.provisioned_concurrency == 200
    error_message = "6144 MB, 200 concurrent and 200 provisioned are SageMaker's upper limits, and valid."
  }
}

run "provisioned_concurrency_reaches_the_configuration" {
  command = plan

  variables {
    serverless_config = { memory_size_in_mb = 4096, max_concurrency = 5, provisioned_concurrency = 2 }
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.production_variants[0].serverless_config[0].provisioned_concurrency == 2
    error_message = "provisioned_concurrency is passed to the production variant."
  }
}

# examples/serverless, the fixture this module's README quotes, planned as written.
run "example_serverless_plans_a_serverless_endpoint_without_provisioned_concurrency" {
  command = plan

  module {
    source = "../../examples/serverless"
  }

  # The file's variables reach the example too; its own name default is "sentiment".
  variables {
    name = "sentiment"
  }

  assert {
    condition     = output.endpoint_name == "sentiment-serverless" && module.endpoint.memory_size_in_mb == 4096 && module.endpoint.provisioned_concurrency == null
    error_message = "4 GB, no provisioned concurrency: nothing is billed while idle."
  }
}
