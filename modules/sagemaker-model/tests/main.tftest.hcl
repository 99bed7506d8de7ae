# The defaults create a least-privilege execution role; a given role replaces it; the image must be in the
# model's region.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name           = "sentiment"
  image          = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
  model_data_url = "s3://my-models-bucket/sentiment/model.tar.gz"
}

run "defaults_create_an_isolated_model_and_its_role" {
  command = plan

  assert {
    condition     = length(aws_iam_role.this) == 1 && length(aws_iam_role_policy.this) == 1
    error_message = "Without execution_role_arn the module creates the role and its policy."
  }
  assert {
    condition     = aws_sagemaker_model.this.enable_network_isolation && startswith(output.model_name, "sentiment-")
    error_message = "Network isolation is on by default and the model name is <name>-<hash>."
  }
}

run "container_environment_variables_pass" {
  command = plan

  variables {
    environment = { HF_TASK = "text-classification", SM_NUM_GPUS = "1" }
  }

  assert {
    condition     = aws_sagemaker_model.this.primary_container[0].environment["HF_TASK"] == "text-classification"
    error_message = "The container environment reaches the model."
  }
}

run "a_given_execution_role_replaces_the_created_one" {
  command = plan

  variables {
    execution_role_arn = "arn:aws:iam::123456789012:role/sagemaker-execution"
  }

  assert {
    condition     = length(aws_iam_role.this) == 0 && output.execution_role_arn == "arn:aws:iam::123456789012:role/sagemaker-execution" && output.execution_role_name == null
    error_message = "With execution_role_arn no role is created and the given one is used."
  }
}

run "the_model_name_changes_with_what_forces_a_new_model" {
  command = plan

  variables {
    enable_network_isolation = false
  }

  assert {
    condition     = output.model_name != run.defaults_create_an_isolated_model_and_its_role.model_name
    error_message = "Turning isolation off (serverless mode) names a new model, created before the old one goes."
  }
}

run "vpc_config_reaches_the_model" {
  command = plan

  variables {
    vpc_config = { subnet_ids = ["subnet-0123abcd"], security_group_ids = ["sg-0123abcd"] }
  }

  assert {
    condition     = aws_sagemaker_model.this.vpc_config[0].subnets == toset(["subnet-0123abcd"])
    error_message = "vpc_config is passed to the model."
  }
}

run "an_image_from_another_regions_registry_is_refused" {
  command = plan

  variables {
    image = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
  }

  expect_failures = [aws_sagemaker_model.this]
}
