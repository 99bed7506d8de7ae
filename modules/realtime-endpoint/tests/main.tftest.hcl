# The defaults plan a configuration only (the manager owns the endpoint); create_endpoint adds the endpoint;
# the instance-store preconditions stop what SageMaker would reject at apply time.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name          = "sentiment"
  model_name    = "sentiment-0a1b2c3d"
  instance_type = "ml.g4dn.xlarge"
}

run "defaults_plan_a_configuration_and_leave_the_endpoint_to_the_manager" {
  command = plan

  assert {
    condition     = length(aws_sagemaker_endpoint.this) == 0 && output.managed_by == "sleep-wake-manager"
    error_message = "By default Terraform never creates the endpoint: the manager does."
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this["preferred"].name_prefix == "sentiment-" && aws_sagemaker_endpoint_configuration.this["preferred"].production_variants[0].instance_type == "ml.g4dn.xlarge"
    error_message = "The configuration rolls over under a name prefix, with the instance type given."
  }
  assert {
    condition     = output.endpoint_name == "sentiment" && output.endpoint_arn == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/sentiment"
    error_message = "The endpoint's name and ARN are known while it sleeps."
  }
}

run "create_endpoint_makes_terraform_own_an_always_on_endpoint" {
  command = plan

  variables {
    create_endpoint = true
  }

  assert {
    condition     = length(aws_sagemaker_endpoint.this) == 1 && output.managed_by == "terraform"
    error_message = "create_endpoint = true plans the endpoint itself."
  }
}

run "a_volume_key_on_an_instance_store_type_is_refused" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d"
  }

  expect_failures = [aws_sagemaker_endpoint_configuration.this]
}

run "a_volume_size_on_an_instance_store_type_is_refused" {
  command = plan

  variables {
    volume_size_in_gb = 100
  }

  expect_failures = [aws_sagemaker_endpoint_configuration.this]
}

run "a_volume_key_and_size_on_an_ebs_type_pass" {
  command = plan

  variables {
    instance_type     = "ml.m5.xlarge"
    kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d"
    volume_size_in_gb = 100
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this["preferred"].production_variants[0].volume_size_in_gb == 100
    error_message = "An EBS-backed type takes a volume size and key."
  }
}

run "fallback_instance_types_plan_one_configuration_per_type_in_order" {
  command = plan

  variables {
    fallback_instance_types = ["ml.g5.xlarge", "ml.g6.xlarge"]
  }

  assert {
    condition     = length(aws_sagemaker_endpoint_configuration.this) == 3 && aws_sagemaker_endpoint_configuration.this["ml.g5.xlarge"].production_variants[0].instance_type == "ml.g5.xlarge" && aws_sagemaker_endpoint_configuration.this["ml.g6.xlarge"].production_variants[0].instance_type == "ml.g6.xlarge"
    error_message = "One more endpoint configuration per fallback instance type."
  }
  assert {
    condition     = alltrue([for c in aws_sagemaker_endpoint_configuration.this : c.production_variants[0].model_name == "sentiment-0a1b2c3d" && c.name_prefix == "sentiment-"])
    error_message = "Every fallback configuration serves the same model."
  }
  assert {
    condition     = [for c in output.endpoint_configs : c.instance_type] == ["ml.g4dn.xlarge", "ml.g5.xlarge", "ml.g6.xlarge"] && length(output.endpoint_config_arns) == 3
    error_message = "endpoint_configs lists every configuration in order, the preferred type first."
  }
}

run "without_fallbacks_one_configuration" {
  command = plan

  assert {
    condition     = length(aws_sagemaker_endpoint_configuration.this) == 1 && length(output.endpoint_configs) == 1
    error_message = "No fallback types, no extra configuration."
  }
}

run "a_fallback_type_with_instance_storage_refuses_a_volume_size_too" {
  command = plan

  variables {
    instance_type           = "ml.m5.xlarge"
    volume_size_in_gb       = 100
    fallback_instance_types = ["ml.g5.xlarge"]
  }

  expect_failures = [aws_sagemaker_endpoint_configuration.this]
}
