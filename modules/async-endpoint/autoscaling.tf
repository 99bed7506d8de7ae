# Scale to zero, and back from it.
#
# 1. A scalable target on the variant's instance count with min_capacity 0 (the default).
# 2. Target tracking on ApproximateBacklogSizePerInstance: adds instances while the queue per instance is above
#    the target and removes them, down to zero, once it stays below (after the scale-in cooldown).
# 3. Target tracking alone never leaves zero: with no instance there is no "backlog per instance" to track, so
#    a request queued at zero instances would wait until the backlog metric said otherwise -- which, with zero
#    instances, it never does. SageMaker publishes HasBacklogWithoutCapacity (1 when requests wait and no
#    instance runs); an alarm on it drives a step policy that adds the first instance.

locals {
  autoscaling   = var.autoscaling != null
  scale_to_zero = try(var.autoscaling.min_capacity == 0, false)
}

resource "aws_appautoscaling_target" "this" {
  count = local.autoscaling ? 1 : 0

  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.this.name}/variant/${var.variant_name}"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = var.autoscaling.min_capacity
  max_capacity       = var.autoscaling.max_capacity

  tags = var.tags
}

resource "aws_appautoscaling_policy" "backlog" {
  count = local.autoscaling ? 1 : 0

  name               = "${var.name}-backlog-per-instance"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling.target_backlog_per_instance
    scale_in_cooldown  = var.autoscaling.scale_in_cooldown_seconds
    scale_out_cooldown = var.autoscaling.scale_out_cooldown_seconds

    customized_metric_specification {
      metric_name = "ApproximateBacklogSizePerInstance"
      namespace   = "AWS/SageMaker"
      statistic   = "Average"

      dimensions {
        name  = "EndpointName"
        value = aws_sagemaker_endpoint.this.name
      }
    }
  }
}

resource "aws_appautoscaling_policy" "scale_out_from_zero" {
  count = local.scale_to_zero ? 1 : 0

  name               = "${var.name}-scale-out-from-zero"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    metric_aggregation_type = "Average"
    # While the alarm stays in ALARM it re-invokes this policy every minute. The instance is counted from
    # the moment it is requested, but HasBacklogWithoutCapacity stays 1 until it is InService (minutes for a
    # GPU), so the cooldown must outlast a cold start or a second instance would be added for one request.
    cooldown = var.autoscaling.scale_out_from_zero_cooldown_seconds

    step_adjustment {
      # Relative to the alarm threshold (1): any breach adds one instance; target tracking does the rest.
      metric_interval_lower_bound = 0
      scaling_adjustment          = 1
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "backlog_without_capacity" {
  count = local.scale_to_zero ? 1 : 0

  alarm_name        = "${var.name}-has-backlog-without-capacity"
  alarm_description = "Requests wait in the ${var.name} async queue and no instance runs: add the first instance."

  namespace   = "AWS/SageMaker"
  metric_name = "HasBacklogWithoutCapacity"
  dimensions = {
    EndpointName = aws_sagemaker_endpoint.this.name
  }
  statistic = "Average"
  period    = 60
  # One minute: the metric is 1 only when a request really waits with zero instances, so one datapoint is no
  # false alarm, and every extra minute here is a minute added to the first request's cold start.
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  # Missing data must never add instances: once instances run (or the endpoint is idle and unreported) the
  # alarm returns to OK instead of staying in ALARM and re-invoking the step policy every minute.
  treat_missing_data = "notBreaching"

  alarm_actions = [aws_appautoscaling_policy.scale_out_from_zero[0].arn]

  tags = var.tags
}
