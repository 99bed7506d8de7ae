# Token auth (the default) plans the authorizer, its function and the tokens table; IAM auth plans none of
# them. The routes, the authorizer's shape, the throttling and the replay switch are what the README promises.

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

run "token_auth_plans_the_authorizer_and_the_tokens_table" {
  command = plan

  assert {
    condition     = toset(keys(aws_apigatewayv2_route.this)) == toset(["POST /invoke", "GET /requests/{id}", "GET /status", "GET /lease", "POST /lease", "DELETE /lease"])
    error_message = "The API's routes are exactly the gateway's routes."
  }
  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.this : route.authorization_type == "CUSTOM"])
    error_message = "With token auth every route goes through the Lambda authorizer."
  }
  assert {
    condition     = toset(keys(aws_lambda_function.this)) == toset(["gateway", "replay", "authorizer"]) && aws_lambda_function.replay_control.handler == "sleepwake.handlers.replay_control.handler"
    error_message = "Token auth adds the authorizer function to the gateway, replay and replay-control functions."
  }
  assert {
    condition = (
      aws_apigatewayv2_authorizer.token[0].authorizer_type == "REQUEST" &&
      aws_apigatewayv2_authorizer.token[0].authorizer_payload_format_version == "2.0" &&
      aws_apigatewayv2_authorizer.token[0].enable_simple_responses &&
      aws_apigatewayv2_authorizer.token[0].identity_sources == toset(["$request.header.Authorization"]) &&
      aws_apigatewayv2_authorizer.token[0].authorizer_result_ttl_in_seconds == 300
    )
    error_message = "A cached (authorizer_cache_ttl_seconds) simple-response REQUEST authorizer on the Authorization header."
  }
  assert {
    condition     = length(aws_dynamodb_table.tokens) == 1 && output.tokens_table_name != null && output.auth == "token"
    error_message = "Token auth keeps token hashes in a table of its own."
  }
  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].throttling_rate_limit == 10 && aws_apigatewayv2_stage.this.default_route_settings[0].throttling_burst_limit == 20
    error_message = "The stage throttles at the given rate and burst."
  }
  assert {
    condition     = !strcontains(lower(aws_apigatewayv2_stage.this.access_log_settings[0].format), "header")
    error_message = "No header (Authorization carries a token) in the access logs."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.replay.enabled == false && aws_lambda_event_source_mapping.replay.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The replay mapping starts disabled (the replay-control function switches it) and reports per-message failures."
  }
}

run "iam_auth_plans_no_authorizer_and_no_tokens_table" {
  command = plan

  variables {
    auth = "iam"
  }

  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.this : route.authorization_type == "AWS_IAM"])
    error_message = "With IAM auth every route needs SigV4."
  }
  assert {
    condition     = length(aws_apigatewayv2_authorizer.token) == 0 && length(aws_dynamodb_table.tokens) == 0 && toset(keys(aws_lambda_function.this)) == toset(["gateway", "replay"])
    error_message = "IAM auth plans no authorizer, no authorizer function and no tokens table."
  }
  assert {
    condition     = output.tokens_table_name == null && output.authorizer_function_name == null && output.auth == "iam"
    error_message = "The token outputs are null with IAM auth."
  }
}

run "throttling_and_cache_ttl_reach_the_api" {
  command = plan

  variables {
    throttling_rate_limit        = 50
    throttling_burst_limit       = 100
    authorizer_cache_ttl_seconds = 0
  }

  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].throttling_rate_limit == 50 && aws_apigatewayv2_stage.this.default_route_settings[0].throttling_burst_limit == 100 && aws_apigatewayv2_authorizer.token[0].authorizer_result_ttl_in_seconds == 0
    error_message = "The throttling limits and the authorizer cache TTL are the given ones."
  }
}

# examples/realtime, the fixture this module's README quotes, planned as written.
run "example_realtime_plans_a_sleeping_endpoint_behind_the_gateway" {
  command = plan

  module {
    source = "../../examples/realtime"
  }

  variables {
    lambda_package_path = "../../tests/terraform/sleepwake-standin.zip"
  }

  assert {
    condition     = module.endpoint.managed_by == "sleep-wake-manager" && module.manager.function_name == "sentiment-manager"
    error_message = "The manager, not Terraform, owns the endpoint."
  }
  assert {
    condition     = module.gateway.auth == "token" && module.gateway.tokens_table_name != null
    error_message = "The gateway checks bearer tokens."
  }
  assert {
    condition     = module.manager.lambda_environment["SLEEPWAKE_IDLE_TIMEOUT_SECONDS"] == "900" && module.endpoint.instance_type == "ml.g5.xlarge"
    error_message = "A g5 endpoint that sleeps after 15 idle minutes."
  }
}

run "a_fallback_endpoint_reaches_the_gateway_only_with_invoke_on_it_alone" {
  command = plan

  variables {
    fallback_endpoint_name = "Sentiment-Fallback"
    fallback_by_default    = true
  }

  assert {
    condition     = aws_lambda_function.this["gateway"].environment[0].variables["SLEEPWAKE_FALLBACK_ENDPOINT"] == "Sentiment-Fallback" && aws_lambda_function.this["gateway"].environment[0].variables["SLEEPWAKE_FALLBACK_BY_DEFAULT"] == "true"
    error_message = "The gateway function knows its fallback endpoint and whether every request accepts it."
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.this["replay"].environment[0].variables), "SLEEPWAKE_FALLBACK_ENDPOINT")
    error_message = "The replay waits for the endpoint itself: no fallback there."
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.gateway.statement : s.resources if s.sid == "InvokeTheFallbackEndpoint"]) == toset(["arn:aws:sagemaker:us-east-1:123456789012:endpoint/sentiment-fallback"]) && one([for s in data.aws_iam_policy_document.gateway.statement : s.actions if s.sid == "InvokeTheFallbackEndpoint"]) == toset(["sagemaker:InvokeEndpoint"])
    error_message = "The gateway may invoke the fallback endpoint, and only it, and only InvokeEndpoint."
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.replay.statement : s if s.sid == "InvokeTheFallbackEndpoint"]) == 0
    error_message = "The replay gets nothing on the fallback endpoint."
  }
}

run "without_a_fallback_no_fallback_settings_or_permission" {
  command = plan

  assert {
    condition     = !contains(keys(aws_lambda_function.this["gateway"].environment[0].variables), "SLEEPWAKE_FALLBACK_ENDPOINT") && length([for s in data.aws_iam_policy_document.gateway.statement : s if s.sid == "InvokeTheFallbackEndpoint"]) == 0
    error_message = "No fallback by default."
  }
}

run "capacity_fallback_configurations_are_usable_by_the_gateways_wake" {
  command = plan

  variables {
    manager_environment = { SLEEPWAKE_TABLE_NAME = "sentiment-state", SLEEPWAKE_ENDPOINTS = jsonencode({ sentiment = { endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge", instance_count = 1, configs = [{ endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge" }, { endpoint_config_name = "sentiment-g5", instance_type = "ml.g5.xlarge" }] } }) }
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.wake.statement : s.resources if s.sid == "UseTheEndpointConfig"]) == toset(["arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/sentiment-config", "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/sentiment-g5"])
    error_message = "A wake started by the gateway may create the endpoint from every listed configuration, and no other."
  }
}
