# The defaults plan the trigger and notify functions, the job table, the S3 and SNS wiring; the optional
# timeouts reach the functions' environment only when set.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name              = "sentiment"
  lambda_package    = { path = "sleepwake.zip", base64sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
  endpoint_name     = "sentiment-async"
  input_bucket_name = "sentiment-async-inputs"
  result_locations  = ["s3://sentiment-async-outputs/outputs/", "s3://sentiment-async-outputs/failures/"]
  success_topic_arn = "arn:aws:sns:us-east-1:123456789012:sentiment-async-success"
  error_topic_arn   = "arn:aws:sns:us-east-1:123456789012:sentiment-async-error"
}

run "defaults_plan_trigger_notify_and_their_wiring" {
  command = plan

  assert {
    condition     = toset(keys(aws_lambda_function.this)) == toset(["trigger", "notify"])
    error_message = "Two functions: the trigger (S3 upload -> InvokeEndpointAsync) and notify (SNS -> job record)."
  }
  assert {
    condition     = aws_lambda_function.this["trigger"].handler == "sleepwake.handlers.async_trigger.handler" && aws_lambda_function.this["notify"].handler == "sleepwake.handlers.async_notify.handler"
    error_message = "Each function runs its handler of the one package."
  }
  assert {
    condition     = length(aws_sns_topic_subscription.results) == 2 && aws_dynamodb_table.this.name == "sentiment-async-state"
    error_message = "notify subscribes to the success and the error topic; jobs are recorded in <name>-async-state."
  }
  assert {
    condition     = !contains(keys(output.lambda_environment), "SLEEPWAKE_ASYNC_REQUEST_TTL_SECONDS") && !contains(keys(output.lambda_environment), "SLEEPWAKE_ASYNC_INVOCATION_TIMEOUT_SECONDS")
    error_message = "Unset timeouts are left to the endpoint's defaults (not in the environment)."
  }
  assert {
    condition     = output.lambda_environment["SLEEPWAKE_ASYNC_CLAIM_SECONDS"] == "60"
    error_message = "A claim outlives the function's timeout (30 s) by 30 s."
  }
}

run "set_timeouts_reach_the_environment" {
  command = plan

  variables {
    request_ttl_seconds        = 3600
    invocation_timeout_seconds = 900
  }

  assert {
    condition     = output.lambda_environment["SLEEPWAKE_ASYNC_REQUEST_TTL_SECONDS"] == "3600" && output.lambda_environment["SLEEPWAKE_ASYNC_INVOCATION_TIMEOUT_SECONDS"] == "900"
    error_message = "request_ttl_seconds and invocation_timeout_seconds are passed to the trigger."
  }
}

# examples/async, the fixture this module's README quotes, planned as written.
run "example_async_plans_an_async_endpoint_that_scales_to_zero" {
  command = plan

  module {
    source = "../../examples/async"
  }

  variables {
    lambda_package_path = "../../tests/terraform/sleepwake-standin.zip"
  }

  assert {
    condition     = module.endpoint.min_capacity == 0 && module.endpoint.max_capacity == 2
    error_message = "Between 0 and 2 instances."
  }
  assert {
    condition     = output.input_prefix == "inputs/" && module.jobs.table_name == "sentiment-async-state"
    error_message = "Inputs under inputs/, jobs recorded in <name>-async-state."
  }
}
