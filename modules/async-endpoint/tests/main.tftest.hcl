# The defaults scale to zero with created buckets and topics; each switch (autoscaling off or from one
# instance, given topics, given buckets, no execution role) adds or removes what the README says.

mock_provider "aws" {
  # Partition, region, account and policy documents shared by every test: tests/terraform/mocks/aws
  source = "../../tests/terraform/mocks/aws"
}

variables {
  name                = "sentiment-async"
  model_name          = "sentiment-0a1b2c3d"
  instance_type       = "ml.g4dn.xlarge"
  execution_role_name = "sentiment-sagemaker"
}

run "defaults_scale_to_zero_with_created_buckets_and_topics" {
  command = plan

  assert {
    condition     = length(aws_appautoscaling_target.this) == 1 && aws_appautoscaling_target.this[0].min_capacity == 0 && aws_appautoscaling_target.this[0].max_capacity == 1
    error_message = "Autoscaling is on by default, between 0 and 1 instance."
  }
  assert {
    condition     = length(aws_appautoscaling_policy.scale_out_from_zero) == 1 && length(aws_cloudwatch_metric_alarm.backlog_without_capacity) == 1
    error_message = "Scaling in to zero needs the step policy and the HasBacklogWithoutCapacity alarm to scale out again."
  }
  assert {
    condition     = length(aws_s3_bucket.inputs) == 1 && length(aws_s3_bucket.outputs) == 1 && length(aws_s3_bucket_policy.this) == 2
    error_message = "Both buckets are created, each with its TLS-only policy."
  }
  assert {
    condition     = length(aws_sns_topic.success) == 1 && length(aws_sns_topic.error) == 1
    error_message = "Both notification topics are created."
  }
  assert {
    condition     = length(aws_iam_role_policy.execution) == 1 && output.min_capacity == 0 && output.input_prefix == "inputs/"
    error_message = "The execution role gets the buckets and topics; outputs follow the defaults."
  }
  assert {
    condition     = aws_sagemaker_endpoint.this.name == "sentiment-async" && aws_sagemaker_endpoint_configuration.this.name_prefix == "sentiment-async-"
    error_message = "Terraform owns the async endpoint; its configuration rolls over under a prefix."
  }
}

run "autoscaling_off_keeps_the_initial_instances" {
  command = plan

  variables {
    autoscaling = null
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && length(aws_appautoscaling_policy.backlog) == 0 && length(aws_cloudwatch_metric_alarm.backlog_without_capacity) == 0
    error_message = "autoscaling = null plans no scaling target, policy or alarm."
  }
  assert {
    condition     = output.min_capacity == null && output.max_capacity == null && output.backlog_alarm_arn == null
    error_message = "The scaling outputs are null when autoscaling is off."
  }
}

run "autoscaling_from_one_instance_needs_no_scale_out_from_zero" {
  command = plan

  variables {
    autoscaling = { min_capacity = 1, max_capacity = 3 }
  }

  assert {
    condition     = length(aws_appautoscaling_policy.backlog) == 1 && length(aws_appautoscaling_policy.scale_out_from_zero) == 0 && length(aws_cloudwatch_metric_alarm.backlog_without_capacity) == 0
    error_message = "min_capacity >= 1 keeps target tracking only."
  }
}

run "given_topics_replace_the_created_ones" {
  command = plan

  variables {
    success_topic_arn = "arn:aws:sns:us-east-1:123456789012:jobs-done"
    error_topic_arn   = "arn:aws:sns:us-east-1:123456789012:jobs-failed"
  }

  assert {
    condition     = length(aws_sns_topic.success) == 0 && length(aws_sns_topic.error) == 0
    error_message = "Given topics are used, none created."
  }
  assert {
    condition     = output.success_topic_arn == "arn:aws:sns:us-east-1:123456789012:jobs-done" && aws_sagemaker_endpoint_configuration.this.async_inference_config[0].output_config[0].notification_config[0].error_topic == "arn:aws:sns:us-east-1:123456789012:jobs-failed"
    error_message = "The endpoint notifies the given topics."
  }
}

run "given_buckets_replace_the_created_ones" {
  command = plan

  variables {
    input_bucket_name  = "my-inputs"
    output_bucket_name = "my-outputs"
  }

  assert {
    condition     = length(aws_s3_bucket.inputs) == 0 && length(aws_s3_bucket.outputs) == 0 && length(aws_s3_bucket_policy.this) == 0
    error_message = "Given buckets are used as they are."
  }
  assert {
    condition     = output.output_path == "s3://my-outputs/outputs/" && output.failure_path == "s3://my-outputs/failures/" && output.input_bucket == "my-inputs"
    error_message = "Results and failures go to the given bucket under their prefixes."
  }
}

run "without_an_execution_role_name_no_policy_is_attached" {
  command = plan

  variables {
    execution_role_name = null
  }

  assert {
    condition     = length(aws_iam_role_policy.execution) == 0
    error_message = "Without execution_role_name the policy is only the execution_policy_json output, for the caller to attach."
  }
}
