# The Terraform-to-Python contract, from the plan: tests/terraform/test_lambda_environment_contract.py runs
# these plans of environments/dev (mock provider, `terraform test -json -verbose`), takes every Lambda's planned
# environment and loads it with the package's own settings loaders. The mock_resource defaults stand in for
# the values AWS assigns at apply time (a name under a prefix, a queue URL, a mapping UUID), so
# that every variable is known in the plan.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"

  override_during = plan
  mock_resource "aws_sagemaker_endpoint_configuration" {
    defaults = {
      name = "sleepwake-dev-20261205000000000000000001"
      arn  = "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/sleepwake-dev-20261205000000000000000001"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/sleepwake-dev-requests"
      arn = "arn:aws:sqs:us-east-1:123456789012:sleepwake-dev-requests"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      bucket = "sleepwake-dev-async-20261205000000000000000001"
      arn    = "arn:aws:s3:::sleepwake-dev-async-20261205000000000000000001"
    }
  }
  mock_resource "aws_lambda_event_source_mapping" {
    defaults = {
      uuid = "0f4d5b2e-8a61-4c1e-9d3b-2a7c5e9f1b42"
    }
  }
}

variables {
  lambda_package_path = "tests/sleepwake.zip"
}

run "realtime" {
  command = plan

  variables {
    inference_mode = "realtime"
  }
}

run "realtime_fleet_iam_keep_warm_notifications" {
  command = plan

  variables {
    inference_mode         = "realtime"
    realtime               = { image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04", fleet = true, keep_warm = "Mon-Fri 09:00-18:00 Europe/Paris", policy = "fixed", idle_timeout_minutes = 30 }
    gateway                = { auth = "iam", max_lease_minutes = 60 }
    notification_topic_arn = "arn:aws:sns:us-east-1:123456789012:ops"
  }
}

run "realtime_capacity_fallback_tags_prices" {
  command = plan

  variables {
    inference_mode         = "realtime"
    realtime               = { image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04", fallback_instance_types = ["ml.g6.xlarge"], fallback = { image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-cpu-py310-ubuntu22.04" } }
    tags                   = { cost-center = "ml-42" }
    hourly_price_overrides = { "ml.g4dn.xlarge" = 0.5, "ml.g6.xlarge" = 0.8 }
  }

  # The one fallback configuration gets a name of its own (the mock default names every configuration alike).
  override_resource {
    target          = module.realtime_endpoint[0].aws_sagemaker_endpoint_configuration.this["ml.g6.xlarge"]
    override_during = plan
    values = {
      name = "sleepwake-dev-20261205000000000000000002"
      arn  = "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/sleepwake-dev-20261205000000000000000002"
    }
  }
}

run "serverless" {
  command = plan

  variables {
    inference_mode = "serverless"
  }
}

run "async" {
  command = plan

  variables {
    inference_mode = "async"
  }
}
