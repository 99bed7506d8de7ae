# The defaults plan the manager with its dashboard and its teardown; fleet mode, keep-warm, notifications,
# the dashboard and the teardown switches add or remove what the README says.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name           = "sentiment"
  lambda_package = { path = "sleepwake.zip", base64sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" }
  endpoints      = { sentiment = { endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge" } }
}

run "defaults_plan_the_manager_dashboard_and_teardown" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.function_name == "sentiment-manager" && aws_dynamodb_table.this.name == "sentiment-state"
    error_message = "The manager is <name>-manager with its state table <name>-state."
  }
  assert {
    condition     = length(aws_lambda_invocation.teardown) == 1 && aws_lambda_invocation.teardown[0].lifecycle_scope == "CRUD" && jsondecode(aws_lambda_invocation.teardown[0].input).endpoints == ["sentiment"]
    error_message = "The teardown invocation (CRUD scope) deletes the declared endpoints before the manager is destroyed."
  }
  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 1 && length(aws_sns_topic.this) == 0
    error_message = "A dashboard by default; no notification topic unless asked for."
  }
  assert {
    condition     = output.fleet_tag == null && output.lambda_environment["SLEEPWAKE_FLEET_TAG"] == "" && output.lambda_environment["SLEEPWAKE_NOTIFY_TOPIC_ARN"] == ""
    error_message = "Fleet mode and notifications are off by default."
  }
  assert {
    condition     = jsondecode(output.lambda_environment["SLEEPWAKE_ENDPOINTS"]).sentiment.endpoint_config_name == "sentiment-config" && !contains(keys(jsondecode(output.lambda_environment["SLEEPWAKE_ENDPOINTS"]).sentiment), "keep_warm")
    error_message = "The declared endpoint reaches the manager's settings, without a keep_warm when none is set."
  }
  assert {
    condition     = aws_cloudwatch_event_rule.schedule.schedule_expression == "rate(1 minute)" && output.lambda_environment["SLEEPWAKE_IDLE_TIMEOUT_SECONDS"] == "900" && output.lambda_environment["SLEEPWAKE_POLICY"] == "adaptive"
    error_message = "A tick a minute, the adaptive policy and a 15-minute idle timeout by default."
  }
}

run "fleet_mode_manages_tagged_endpoints_without_declared_ones" {
  command = plan

  variables {
    endpoints = {}
    fleet     = {}
  }

  assert {
    condition     = output.fleet_tag == { key = "auto-maintain", value = "true" } && output.lambda_environment["SLEEPWAKE_FLEET_TAG"] == "auto-maintain=true"
    error_message = "fleet = {} turns fleet mode on with the auto-maintain=true tag."
  }
  assert {
    condition     = output.lambda_environment["SLEEPWAKE_KEEP_WARM_TAG_KEY"] == "sleepwake:keep-warm"
    error_message = "Fleet endpoints carry their keep-warm schedule in the sleepwake:keep-warm tag."
  }
  assert {
    condition     = output.lambda_environment["SLEEPWAKE_MAX_DELETES_PER_TICK"] == "10"
    error_message = "Fleet mode caps deletes at 10 per tick by default."
  }
}

run "fleet_tag_is_configurable" {
  command = plan

  variables {
    fleet = { tag_key = "team", tag_value = "ml", keep_warm_tag_key = "team:keep-warm", max_deletes_per_tick = 3 }
  }

  assert {
    condition     = output.lambda_environment["SLEEPWAKE_FLEET_TAG"] == "team=ml" && output.lambda_environment["SLEEPWAKE_KEEP_WARM_TAG_KEY"] == "team:keep-warm"
    error_message = "The fleet tag and keep-warm tag key are the given ones."
  }
  assert {
    condition     = output.lambda_environment["SLEEPWAKE_MAX_DELETES_PER_TICK"] == "3"
    error_message = "The blast-radius cap reaches the manager."
  }
}

run "keep_warm_reaches_the_endpoint_settings" {
  command = plan

  variables {
    endpoints = { sentiment = { endpoint_config_name = "sentiment-config", instance_type = "ml.g4dn.xlarge", keep_warm = "Mon-Fri 09:00-18:00 Europe/Paris" } }
  }

  assert {
    condition     = jsondecode(output.lambda_environment["SLEEPWAKE_ENDPOINTS"]).sentiment.keep_warm == "Mon-Fri 09:00-18:00 Europe/Paris"
    error_message = "A declared endpoint's keep_warm schedule is passed to the manager."
  }
}

run "a_created_notification_topic" {
  command = plan

  variables {
    create_notification_topic = true
  }

  assert {
    condition     = length(aws_sns_topic.this) == 1 && aws_sns_topic.this[0].name == "sentiment-notifications"
    error_message = "create_notification_topic plans the topic."
  }
}

run "a_given_notification_topic" {
  command = plan

  variables {
    notification_topic_arn = "arn:aws:sns:us-east-1:123456789012:ops"
  }

  assert {
    condition     = length(aws_sns_topic.this) == 0 && output.lambda_environment["SLEEPWAKE_NOTIFY_TOPIC_ARN"] == "arn:aws:sns:us-east-1:123456789012:ops" && output.notification_topic_arn == "arn:aws:sns:us-east-1:123456789012:ops"
    error_message = "A given topic is used, none created."
  }
}

run "no_dashboard_and_no_teardown" {
  command = plan

  variables {
    create_dashboard            = false
    delete_endpoints_on_destroy = false
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_name == null && length(aws_lambda_invocation.teardown) == 0
    error_message = "Both switches remove their resource."
  }
}

run "capacity_fallbacks_reach_the_settings_and_iam_covers_exactly_their_configurations" {
  command = plan

  variables {
    endpoints = {
      sentiment = {
        endpoint_config_name = "Sentiment-G4dn"
        instance_type        = "ml.g4dn.xlarge"
        fallback_configs = [
          { endpoint_config_name = "sentiment-g5", instance_type = "ml.g5.xlarge" },
          { endpoint_config_name = "sentiment-g6", instance_type = "ml.g6.xlarge" },
        ]
      }
    }
  }

  assert {
    condition     = [for c in jsondecode(output.lambda_environment["SLEEPWAKE_ENDPOINTS"]).sentiment.configs : c.instance_type] == ["ml.g4dn.xlarge", "ml.g5.xlarge", "ml.g6.xlarge"]
    error_message = "The manager's settings carry the ordered list of (configuration, instance type), the preferred first."
  }
  assert {
    condition = one([for s in data.aws_iam_policy_document.this.statement : s.resources if s.sid == "UseDeclaredEndpointConfigs"]) == toset([
      "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/sentiment-g4dn",
      "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/sentiment-g5",
      "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/sentiment-g6",
    ])
    error_message = "The manager may create the endpoint from exactly its listed configurations (lower-cased ARNs)."
  }
}

run "without_fallbacks_iam_covers_the_one_configuration" {
  command = plan

  assert {
    condition     = one([for s in data.aws_iam_policy_document.this.statement : s.resources if s.sid == "UseDeclaredEndpointConfigs"]) == toset(["arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/sentiment-config"])
    error_message = "One configuration, one ARN."
  }
  assert {
    condition     = !contains(keys(jsondecode(output.lambda_environment["SLEEPWAKE_ENDPOINTS"]).sentiment), "configs")
    error_message = "No fallback list without fallbacks."
  }
}

run "price_overrides_reach_the_manager" {
  command = plan

  variables {
    hourly_price_overrides = { "ml.g4dn.xlarge" = 0.5 }
  }

  assert {
    condition     = jsondecode(output.lambda_environment["SLEEPWAKE_HOURLY_PRICE_OVERRIDES"]) == { "ml.g4dn.xlarge" = 0.5 }
    error_message = "hourly_price_overrides reaches SLEEPWAKE_HOURLY_PRICE_OVERRIDES as JSON."
  }
}

run "no_price_overrides_by_default" {
  command = plan

  assert {
    condition     = output.lambda_environment["SLEEPWAKE_HOURLY_PRICE_OVERRIDES"] == ""
    error_message = "No overrides by default: the manager's price table."
  }
}
