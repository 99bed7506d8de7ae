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
  image          = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
  model_data_url = "s3://my-models-bucket/sentiment/model.tar.gz"
}

run "invalid_inputs_1" {
  command = plan

  variables {
    # rejects name longer than 54
    name = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
    # rejects image with whitespace
    image = "my image:latest"
    # rejects model data url not s3
    model_data_url = "https://example.com/model.tar.gz"
    # rejects environment key with dash
    environment = { "HF-TASK" = "x" }
    # rejects execution role arn not a role
    execution_role_arn = "arn:aws:iam::123456789012:user/someone"
    # rejects boundary not a policy arn
    role_permissions_boundary_arn = "arn:aws:iam::123456789012:role/boundary"
    # rejects additional read uri not s3
    additional_s3_read_uris = ["bucket/prefix/"]
    # rejects kms key arn not a key
    kms_key_arn = "arn:aws:s3:::not-a-key"
    # rejects vpc config without security groups
    vpc_config = { subnet_ids = ["subnet-0123abcd"], security_group_ids = [] }
  }

  expect_failures = [
    var.name,
    var.image,
    var.model_data_url,
    var.environment,
    var.execution_role_arn,
    var.role_permissions_boundary_arn,
    var.additional_s3_read_uris,
    var.kms_key_arn,
    var.vpc_config,
  ]
}

run "invalid_inputs_2" {
  command = plan

  variables {
    # rejects vpc config with malformed ids
    vpc_config = { subnet_ids = ["my-subnet"], security_group_ids = ["sg-0123abcd"] }
  }

  expect_failures = [
    var.vpc_config,
  ]
}
