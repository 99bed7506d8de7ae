# Every `validation` block is broken by exactly one run, and each run breaks at most one block of each
# variable it lists in expect_failures (Terraform fails the run if any listed variable is accepted), so a
# variable with N blocks appears in N runs; tools/tf_validation_coverage.py checks that none is left out.
# Inputs not set in a run keep the valid values below, which tests/main.tftest.hcl shows to pass.

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

run "invalid_inputs_1" {
  command = plan

  variables {
    # rejects name longer than 40
    name = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
    # rejects endpoint name with underscore
    endpoint_name = "sentiment_async"
    # rejects input bucket with upper case
    input_bucket_name = "Inputs"
    # rejects input prefix without trailing slash
    input_prefix = "inputs"
    # rejects failed prefix with leading slash
    failed_prefix = "/failed/"
    # rejects no result locations
    result_locations = []
    # rejects success topic not sns
    success_topic_arn = "topic"
    # rejects error topic not sns
    error_topic_arn = "arn:aws:sqs:us-east-1:123456789012:q"
    # rejects content type without slash
    default_content_type = "json"
    # rejects request ttl below 60
    request_ttl_seconds = 59
    # rejects invocation timeout above 3600
    invocation_timeout_seconds = 3601
    # rejects record ttl zero days
    record_ttl_days = 0
    # rejects lambda timeout above 900
    lambda_timeout_seconds = 901
    # rejects reserved concurrency zero
    reserved_concurrency = 0
    # rejects environment name with space
    environment_name = "my env"
    # rejects unknown log level
    log_level = "VERBOSE"
    # rejects lambda package not a zip
    lambda_package = { path = "sleepwake.tar.gz", base64sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
    # rejects lambda memory below 128
    lambda_memory_mb = 64
    # rejects runtime not python
    runtime = "nodejs20.x"
    # rejects two architectures
    architectures = ["arm64", "x86_64"]
    # rejects kms key arn not a key
    kms_key_arn = "arn:aws:s3:::not-a-key"
    # rejects boundary not a policy arn
    role_permissions_boundary_arn = "arn:aws:iam::123456789012:role/boundary"
    # rejects log retention off the cloudwatch list
    log_retention_days = 10
  }

  expect_failures = [
    var.name,
    var.endpoint_name,
    var.input_bucket_name,
    var.input_prefix,
    var.failed_prefix,
    var.result_locations,
    var.success_topic_arn,
    var.error_topic_arn,
    var.default_content_type,
    var.request_ttl_seconds,
    var.invocation_timeout_seconds,
    var.record_ttl_days,
    var.lambda_timeout_seconds,
    var.reserved_concurrency,
    var.environment_name,
    var.log_level,
    var.lambda_package,
    var.lambda_memory_mb,
    var.runtime,
    var.architectures,
    var.kms_key_arn,
    var.role_permissions_boundary_arn,
    var.log_retention_days,
  ]
}

run "invalid_inputs_2" {
  command = plan

  variables {
    # rejects lambda package hash not sha256
    lambda_package = { path = "sleepwake.zip", base64sha256 = "abc" }
  }

  expect_failures = [
    var.lambda_package,
  ]
}
