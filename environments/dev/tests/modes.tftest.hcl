# Each inference_mode plans exactly its modules, with this environment's terraform.tfvars (terraform test reads
# them; staging and prod run the same file against theirs). docs/modes.md says what a switch creates and
# deletes: the modules counted out below are what a switch away from a mode destroys. Mock provider: nothing
# is created and no credentials are needed. tests/sleepwake.zip stands in for build/sleepwake.zip.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  lambda_package_path = "tests/sleepwake.zip"
}

run "realtime_plans_the_manager_the_gateway_and_a_configuration_only" {
  command = plan

  variables {
    inference_mode = "realtime"
  }

  assert {
    condition     = length(module.realtime_endpoint) == 1 && length(module.manager) == 1 && length(module.gateway) == 1
    error_message = "Real-time mode: the GPU configuration, the sleep/wake manager and the gateway."
  }
  assert {
    condition     = length(module.serverless_endpoint) == 0 && length(module.async_endpoint) == 0 && length(module.async_jobs) == 0
    error_message = "Real-time mode plans nothing of the other modes."
  }
  assert {
    condition     = output.endpoint_name == var.name && module.realtime_endpoint[0].managed_by == "sleep-wake-manager"
    error_message = "The real-time endpoint is <name>, and the manager (not Terraform) creates it."
  }
  assert {
    condition     = output.inference_mode == "realtime" && output.input_bucket == null && output.output_path == null
    error_message = "The async outputs are null in real-time mode."
  }
  assert {
    condition     = module.model.model_name != "" && aws_iam_policy.invoke.name == "${var.name}-app-invoke"
    error_message = "The model and the application policy exist in every mode, the policy under one name."
  }
}

run "serverless_plans_the_serverless_endpoint_only" {
  command = plan

  variables {
    inference_mode = "serverless"
  }

  assert {
    condition     = length(module.serverless_endpoint) == 1 && length(module.realtime_endpoint) == 0 && length(module.manager) == 0 && length(module.gateway) == 0 && length(module.async_endpoint) == 0 && length(module.async_jobs) == 0
    error_message = "Serverless mode: the serverless endpoint and nothing of the other modes."
  }
  assert {
    condition     = output.endpoint_name == "${var.name}-serverless" && output.api_url == null && output.input_bucket == null
    error_message = "The serverless endpoint has its own name; no gateway, no buckets."
  }
  assert {
    condition     = aws_iam_policy.invoke.name == "${var.name}-app-invoke"
    error_message = "The application policy keeps its name across a switch (only its document changes)."
  }
}

run "async_plans_the_async_endpoint_and_its_jobs_only" {
  command = plan

  variables {
    inference_mode = "async"
    async          = { image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04", max_instance_count = 3 }
  }

  assert {
    condition     = length(module.async_endpoint) == 1 && length(module.async_jobs) == 1 && length(module.realtime_endpoint) == 0 && length(module.manager) == 0 && length(module.gateway) == 0 && length(module.serverless_endpoint) == 0
    error_message = "Async mode: the async endpoint and its jobs, nothing of the other modes."
  }
  assert {
    condition     = output.endpoint_name == "${var.name}-async" && output.api_url == null && output.input_prefix == "inputs/"
    error_message = "The async endpoint has its own name; the upload location is exported."
  }
  assert {
    condition     = module.async_endpoint[0].min_capacity == 0 && module.async_endpoint[0].max_capacity == 3
    error_message = "The async endpoint scales in to zero instances by default, out to async.max_instance_count."
  }
}

# ---- the switches inside real-time mode

run "realtime_switches_fleet_iam_auth_and_notifications" {
  command = plan

  variables {
    inference_mode         = "realtime"
    realtime               = { image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04", fleet = true }
    gateway                = { auth = "iam" }
    notification_topic_arn = "arn:aws:sns:us-east-1:123456789012:ops"
  }

  assert {
    condition     = module.manager[0].fleet_tag == { key = "auto-maintain", value = "true" }
    error_message = "realtime.fleet = true manages every endpoint tagged auto-maintain=true."
  }
  assert {
    condition     = output.gateway_auth == "iam" && output.gateway_tokens_table_name == null
    error_message = "gateway.auth = iam plans no tokens table (and no authorizer)."
  }
  assert {
    condition     = module.manager[0].notification_topic_arn == "arn:aws:sns:us-east-1:123456789012:ops"
    error_message = "notification_topic_arn is the manager's notification topic."
  }
}

run "realtime_capacity_fallbacks_plan_one_configuration_per_type_for_the_manager" {
  command = plan

  variables {
    inference_mode = "realtime"
    realtime       = { image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04", instance_type = "ml.g5.xlarge", fallback_instance_types = ["ml.g6.xlarge", "ml.g4dn.2xlarge"] }
  }

  assert {
    condition     = length(module.realtime_endpoint[0].endpoint_configs) == 3 && [for c in module.realtime_endpoint[0].endpoint_configs : c.instance_type] == ["ml.g5.xlarge", "ml.g6.xlarge", "ml.g4dn.2xlarge"]
    error_message = "One endpoint configuration per listed instance type, the preferred first."
  }
}

run "realtime_fallback_plans_a_serverless_endpoint_the_gateway_calls" {
  command = plan

  variables {
    inference_mode = "realtime"
    realtime = {
      image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
      fallback  = { image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-cpu-py310-ubuntu22.04", by_default = true }
    }
  }

  assert {
    condition     = length(module.fallback_endpoint) == 1 && module.fallback_endpoint[0].endpoint_name == "${var.name}-fallback" && length(module.fallback_model) == 1
    error_message = "A fallback plans a serverless endpoint <name>-fallback with its own model."
  }
  assert {
    condition     = length(module.serverless_endpoint) == 0
    error_message = "The fallback is not serverless mode: the real-time modules stay."
  }
}

run "realtime_without_fallback_plans_none" {
  command = plan

  variables {
    inference_mode = "realtime"
  }

  assert {
    condition     = length(module.fallback_endpoint) == 0 && length(module.fallback_model) == 0
    error_message = "No fallback unless asked for."
  }
}
