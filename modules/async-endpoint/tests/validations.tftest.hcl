# Every `validation` block is broken by exactly one run, and each run breaks at most one block of each
# variable it lists in expect_failures (Terraform fails the run if any listed variable is accepted), so a
# variable with N blocks appears in N runs; tools/tf_validation_coverage.py checks that none is left out.
# Inputs not set in a run keep the valid values below, which tests/main.tftest.hcl shows to pass.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name                = "sentiment-async"
  model_name          = "sentiment-0a1b2c3d"
  instance_type       = "ml.g4dn.xlarge"
  execution_role_name = "sentiment-sagemaker"
}

run "invalid_inputs_1" {
  command = plan

  variables {
    # rejects endpoint name with underscore
    name = "sentiment_async"
    # rejects model name with dot
    model_name = "m.1"
    # rejects instance type without ml prefix
    instance_type = "g5.xlarge"
    # rejects fractional instance count
    initial_instance_count = 1.5
    # rejects variant name with space
    variant_name = "a b"
    # rejects health check timeout above 3600
    container_startup_health_check_timeout_in_seconds = 4000
    # rejects concurrent invocations above 1000
    max_concurrent_invocations_per_instance = 1001
    # rejects input bucket with upper case
    input_bucket_name = "My-Bucket"
    # rejects output bucket with underscore
    output_bucket_name = "my_bucket"
    # rejects input prefix without trailing slash
    input_prefix = "inputs"
    # rejects output prefix with leading slash
    output_prefix = "/outputs/"
    # rejects failure prefix with space
    failure_prefix = "my failures/"
    # rejects output expiration zero days
    output_expiration_days = 0
    # rejects input expiration fractional
    input_expiration_days = 0.5
    # rejects noncurrent expiration zero
    input_noncurrent_version_expiration_days = 0
    # rejects success topic not sns
    success_topic_arn = "arn:aws:sqs:us-east-1:123456789012:queue"
    # rejects error topic not an arn
    error_topic_arn = "errors"
    # rejects kms key arn not a key
    kms_key_arn = "arn:aws:s3:::not-a-key"
    # rejects volume kms key arn not a key
    volume_kms_key_arn = "arn:aws:s3:::not-a-key"
    # rejects autoscaling min above max
    autoscaling = { min_capacity = 3, max_capacity = 2 }
  }

  expect_failures = [
    var.name,
    var.model_name,
    var.instance_type,
    var.initial_instance_count,
    var.variant_name,
    var.container_startup_health_check_timeout_in_seconds,
    var.max_concurrent_invocations_per_instance,
    var.input_bucket_name,
    var.output_bucket_name,
    var.input_prefix,
    var.output_prefix,
    var.failure_prefix,
    var.output_expiration_days,
    var.input_expiration_days,
    var.input_noncurrent_version_expiration_days,
    var.success_topic_arn,
    var.error_topic_arn,
    var.kms_key_arn,
    var.volume_kms_key_arn,
    var.autoscaling,
  ]
}

run "invalid_inputs_2" {
  command = plan

  variables {
    # rejects autoscaling zero backlog target
    autoscaling = { target_backlog_per_instance = 0 }
  }

  expect_failures = [
    var.autoscaling,
  ]
}

run "invalid_inputs_3" {
  command = plan

  variables {
    # rejects autoscaling short scale out from zero
    autoscaling = { scale_out_from_zero_cooldown_seconds = 30 }
  }

  expect_failures = [
    var.autoscaling,
  ]
}
