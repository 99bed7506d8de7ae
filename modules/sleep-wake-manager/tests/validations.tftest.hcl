# Every `validation` block is broken by exactly one run, and each run breaks at most one block of each
# variable it lists in expect_failures (Terraform fails the run if any listed variable is accepted), so a
# variable with N blocks appears in N runs; tools/tf_validation_coverage.py checks that none is left out.
# Inputs not set in a run keep the valid values below, which tests/main.tftest.hcl shows to pass.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name           = "sentiment"
  lambda_package = { path = "sleepwake.zip", base64sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
  endpoints      = { sentiment = { endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge" } }
}

run "invalid_inputs_1" {
  command = plan

  variables {
    # rejects name longer than 40
    name = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
    # rejects endpoint key with underscore
    endpoints = { senti_ment = { endpoint_config_name = "c", instance_type = "ml.g4dn.xlarge" } }
    # rejects schedule rate 1 minutes
    schedule_expression = "rate(1 minutes)"
    # rejects unknown policy
    policy = "lru"
    # rejects negative cold start penalty
    cold_start_penalty_seconds = -1
    # rejects idle timeout above a day
    idle_timeout_minutes = 1441
    # rejects negative min in service
    min_in_service_minutes = -1
    # rejects zero wake estimate
    wake_estimate_seconds = 0
    # rejects failure backoff above a day
    failure_backoff_seconds = 86401
    # rejects more than 20 retries
    max_failure_retries = 21
    # rejects aws protect tag key
    protect_tag_key = "aws:protected"
    # rejects notification topic not sns
    notification_topic_arn = "arn:aws:sqs:us-east-1:123456789012:q"
    # rejects endpoint kms key not a key
    endpoint_kms_key_arns = ["arn:aws:s3:::not-a-key"]
    # rejects lambda timeout zero
    lambda_timeout_seconds = 0
    # rejects reserved concurrency zero
    reserved_concurrency = 0
    # rejects environment name with slash
    environment_name = "dev/1"
    # rejects unknown log level
    log_level = "TRACE"
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
    var.endpoints,
    var.schedule_expression,
    var.policy,
    var.cold_start_penalty_seconds,
    var.idle_timeout_minutes,
    var.min_in_service_minutes,
    var.wake_estimate_seconds,
    var.failure_backoff_seconds,
    var.max_failure_retries,
    var.protect_tag_key,
    var.notification_topic_arn,
    var.endpoint_kms_key_arns,
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
    # rejects endpoint instance type without ml
    endpoints = { sentiment = { endpoint_config_name = "c", instance_type = "g4dn.xlarge" } }
    # rejects lambda package hash not sha256
    lambda_package = { path = "sleepwake.zip", base64sha256 = "abc" }
  }

  expect_failures = [
    var.endpoints,
    var.lambda_package,
  ]
}

run "invalid_inputs_3" {
  command = plan

  variables {
    # rejects endpoint zero instances
    endpoints = { sentiment = { endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge", instance_count = 0 } }
  }

  expect_failures = [
    var.endpoints,
  ]
}

run "invalid_inputs_4" {
  command = plan

  variables {
    # rejects endpoint aws tag
    endpoints = { sentiment = { endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge", tags = { "aws:owner" = "me" } } }
  }

  expect_failures = [
    var.endpoints,
  ]
}

run "invalid_inputs_5" {
  command = plan

  variables {
    # rejects keep warm without hours
    endpoints = { sentiment = { endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge", keep_warm = "Mon-Fri Europe/Paris" } }
  }

  expect_failures = [
    var.endpoints,
  ]
}

run "invalid_inputs_6" {
  command = plan

  variables {
    # rejects keep warm unknown time zone
    endpoints = { sentiment = { endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge", keep_warm = "Mon-Fri 09:00-18:00 Europe/Pariss" } }
  }

  expect_failures = [
    var.endpoints,
  ]
}

run "invalid_inputs_7" {
  command = plan

  variables {
    # rejects nothing to manage
    endpoints = {}
  }

  expect_failures = [
    var.endpoints,
  ]
}

run "invalid_inputs_8" {
  command = plan

  variables {
    # rejects fleet aws tag key
    fleet = { tag_key = "aws:auto-maintain" }
  }

  expect_failures = [
    var.fleet,
  ]
}

run "invalid_inputs_9" {
  command = plan

  variables {
    # rejects fleet keep warm tag equal to tag key
    fleet = { keep_warm_tag_key = "auto-maintain" }
  }

  expect_failures = [
    var.fleet,
  ]
}

run "invalid_inputs_10" {
  command = plan

  variables {
    # rejects a blast-radius cap that is not a whole number from 1 to 1000
    fleet = { max_deletes_per_tick = 0 }
  }

  expect_failures = [
    var.fleet,
  ]
}

run "invalid_inputs_fallback_configs" {
  command = plan

  variables {
    # rejects a fallback that repeats the preferred instance type
    endpoints = { sentiment = { endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge", fallback_configs = [{ endpoint_config_name = "other", instance_type = "ml.g4dn.xlarge" }] } }
  }

  expect_failures = [
    var.endpoints,
  ]
}

run "invalid_inputs_price_overrides" {
  command = plan

  variables {
    # rejects an override keyed by something that is not an instance type
    hourly_price_overrides = { "g5.xlarge" = 1.0 }
  }

  expect_failures = [
    var.hourly_price_overrides,
  ]
}
