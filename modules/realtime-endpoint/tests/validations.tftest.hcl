# Every `validation` block is broken by exactly one run, and each run breaks at most one block of each
# variable it lists in expect_failures (Terraform fails the run if any listed variable is accepted), so a
# variable with N blocks appears in N runs; tools/tf_validation_coverage.py checks that none is left out.
# Inputs not set in a run keep the valid values below, which tests/main.tftest.hcl shows to pass.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name          = "sentiment"
  model_name    = "sentiment-0a1b2c3d"
  instance_type = "ml.g4dn.xlarge"
}

run "invalid_inputs_1" {
  command = plan

  variables {
    # rejects endpoint name with dot
    name = "sentiment.v2"
    # rejects model name with underscore
    model_name = "sentiment_model"
    # rejects instance type without ml prefix
    instance_type = "g4dn.xlarge"
    # rejects zero instances
    initial_instance_count = 0
    # rejects variant name with slash
    variant_name = "a/b"
    # rejects volume above 512 gb
    volume_size_in_gb = 513
    # rejects health check timeout below 60
    container_startup_health_check_timeout_in_seconds = 30
    # rejects download timeout above 3600
    model_data_download_timeout_in_seconds = 3601
    # rejects kms key arn not a key
    kms_key_arn = "arn:aws:s3:::not-a-key"
  }

  expect_failures = [
    var.name,
    var.model_name,
    var.instance_type,
    var.initial_instance_count,
    var.variant_name,
    var.volume_size_in_gb,
    var.container_startup_health_check_timeout_in_seconds,
    var.model_data_download_timeout_in_seconds,
    var.kms_key_arn,
  ]
}

run "invalid_inputs_2" {
  command = plan

  variables {
    # rejects a fallback instance type without ml prefix
    fallback_instance_types = ["g5.xlarge"]
  }

  expect_failures = [
    var.fallback_instance_types,
  ]
}

run "invalid_inputs_3" {
  command = plan

  variables {
    # rejects the preferred instance type repeated as a fallback
    fallback_instance_types = ["ml.g4dn.2xlarge", "ml.g4dn.xlarge"]
  }

  expect_failures = [
    var.fallback_instance_types,
  ]
}
