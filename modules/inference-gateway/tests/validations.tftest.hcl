# Every `validation` block is broken by exactly one run, and each run breaks at most one block of each
# variable it lists in expect_failures (Terraform fails the run if any listed variable is accepted), so a
# variable with N blocks appears in N runs; tools/tf_validation_coverage.py checks that none is left out.
# Inputs not set in a run keep the valid values below, which tests/main.tftest.hcl shows to pass.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name                = "sentiment"
  lambda_package      = { path = "sleepwake.zip", base64sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
  endpoint_name       = "sentiment"
  manager_environment = { SLEEPWAKE_TABLE_NAME = "sentiment-state", SLEEPWAKE_ENDPOINTS = jsonencode({ sentiment = { endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge", instance_count = 1 } }) }
  state_table_arn     = "arn:aws:dynamodb:us-east-1:123456789012:table/sentiment-state"
}

run "invalid_inputs_1" {
  command = plan

  variables {
    # rejects name with upper case
    name = "Sentiment"
    # rejects endpoint name with underscore
    endpoint_name = "senti_ment"
    # rejects manager environment without table
    manager_environment = { SLEEPWAKE_ENDPOINTS = "{}" }
    # rejects state table arn not dynamodb
    state_table_arn = "arn:aws:s3:::bucket"
    # rejects unknown auth
    auth = "cognito"
    # rejects authorizer cache ttl above 3600
    authorizer_cache_ttl_seconds = 3601
    # rejects zero rate limit
    throttling_rate_limit = 0
    # rejects burst limit above 5000
    throttling_burst_limit = 5001
    # rejects lease longer than a week
    max_lease_minutes = 10081
    # rejects body above sagemaker limit
    max_body_bytes = 6291457
    # rejects retention above 14 days
    request_retention_days = 15
    # rejects result url expiry below 60
    result_url_expiry_seconds = 59
    # rejects zero max receive count
    max_receive_count = 0
    # rejects replay batch above 10
    replay = { batch_size = 11 }
    # rejects queue age alarm below 5 minutes
    queue_age_alarm_minutes = 4
    # rejects endpoint kms key not a key
    endpoint_kms_key_arns = ["arn:aws:s3:::not-a-key"]
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
    var.manager_environment,
    var.state_table_arn,
    var.auth,
    var.authorizer_cache_ttl_seconds,
    var.throttling_rate_limit,
    var.throttling_burst_limit,
    var.max_lease_minutes,
    var.max_body_bytes,
    var.request_retention_days,
    var.result_url_expiry_seconds,
    var.max_receive_count,
    var.replay,
    var.queue_age_alarm_minutes,
    var.endpoint_kms_key_arns,
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
    # rejects manager environment endpoints not json
    manager_environment = { SLEEPWAKE_TABLE_NAME = "t", SLEEPWAKE_ENDPOINTS = "sentiment" }
    # rejects replay concurrency below 2
    replay = { max_concurrency = 1 }
    # rejects lambda package hash not sha256
    lambda_package = { path = "sleepwake.zip", base64sha256 = "abc" }
  }

  expect_failures = [
    var.manager_environment,
    var.replay,
    var.lambda_package,
  ]
}

run "invalid_inputs_3" {
  command = plan

  variables {
    # rejects replay timeout below 30
    replay = { timeout_seconds = 20, invoke_timeout_seconds = 1 }
  }

  expect_failures = [
    var.replay,
  ]
}

run "invalid_inputs_4" {
  command = plan

  variables {
    # rejects replay invoke timeout without 15 s left
    replay = { timeout_seconds = 60, invoke_timeout_seconds = 50 }
  }

  expect_failures = [
    var.replay,
  ]
}

run "invalid_inputs_5" {
  command = plan

  variables {
    # rejects replay schedule rate 1 minutes
    replay = { reconcile_schedule = "rate(1 minutes)" }
  }

  expect_failures = [
    var.replay,
  ]
}

run "invalid_inputs_fallback_1" {
  command = plan

  variables {
    # rejects a fallback endpoint name with an underscore
    fallback_endpoint_name = "sentiment_fallback"
  }

  expect_failures = [
    var.fallback_endpoint_name,
  ]
}

run "invalid_inputs_fallback_2" {
  command = plan

  variables {
    # rejects the endpoint itself as its fallback
    fallback_endpoint_name = "sentiment"
  }

  expect_failures = [
    var.fallback_endpoint_name,
  ]
}

run "invalid_inputs_fallback_3" {
  command = plan

  variables {
    # rejects fallback_by_default without a fallback endpoint
    fallback_by_default = true
  }

  expect_failures = [
    var.fallback_by_default,
  ]
}
