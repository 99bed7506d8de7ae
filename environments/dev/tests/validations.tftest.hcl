# Every `validation` block of the root broken by one run (tools/tf_validation_coverage.py checks none is left
# out); the rest of the inputs are this environment's terraform.tfvars.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  lambda_package_path = "tests/sleepwake.zip"
}

run "invalid_inputs_1" {
  command = plan

  variables {
    # a region that is not a region name
    region = "US East"
    # a name with an underscore
    name = "sleepwake_dev"
    # an environment name with a space
    environment_name = "my env"
    # a model outside S3
    model_data_url = "https://example.com/model.tar.gz"
    # a GPU image for serverless
    serverless = { image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-gpu-py310" }
  }

  expect_failures = [
    var.region,
    var.name,
    var.environment_name,
    var.model_data_url,
    var.serverless,
  ]
}

run "an_unknown_mode_is_rejected" {
  command = plan

  variables {
    inference_mode = "batch"
  }

  expect_failures = [var.inference_mode]
}

run "realtime_without_its_settings_block" {
  command = plan

  variables {
    inference_mode = "realtime"
    realtime       = null
  }

  expect_failures = [var.realtime]
}

run "serverless_without_its_settings_block" {
  command = plan

  variables {
    inference_mode = "serverless"
    serverless     = null
  }

  expect_failures = [var.serverless]
}

run "async_without_its_settings_block" {
  command = plan

  variables {
    inference_mode = "async"
    async          = null
  }

  expect_failures = [var.async]
}

run "a_gpu_image_for_the_realtime_fallback_is_rejected" {
  command = plan

  variables {
    inference_mode = "realtime"
    realtime = {
      image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
      fallback  = { image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04" }
    }
  }

  expect_failures = [var.realtime]
}

run "an_aws_tag_key_is_rejected" {
  command = plan

  variables {
    tags = { "aws:owner" = "me" }
  }

  expect_failures = [var.tags]
}
