# This environment's terraform.tfvars, as they are, plan exactly the modules of the mode they choose. dev,
# staging and prod all run this file (staging and prod link it); tests/modes.tftest.hcl, in dev only, goes
# through every mode and switch of the composition they share.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  lambda_package_path = "tests/sleepwake.zip"
}

run "the_tfvars_plan_the_modules_of_their_mode" {
  command = plan

  assert {
    condition = (
      length(module.realtime_endpoint) + length(module.manager) + length(module.gateway) == (var.inference_mode == "realtime" ? 3 : 0) &&
      length(module.serverless_endpoint) == (var.inference_mode == "serverless" ? 1 : 0) &&
      length(module.async_endpoint) + length(module.async_jobs) == (var.inference_mode == "async" ? 2 : 0)
    )
    error_message = "The modules planned are exactly those of the chosen inference_mode."
  }
  assert {
    condition     = output.inference_mode == var.inference_mode && output.endpoint_name == { realtime = var.name, serverless = "${var.name}-serverless", async = "${var.name}-async" }[var.inference_mode]
    error_message = "The endpoint's name is the mode's own."
  }
}
