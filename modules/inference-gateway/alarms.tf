resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name        = "${var.name}-requests-dead-lettered"
  alarm_description = "A queued request for ${var.endpoint_name} failed ${var.max_receive_count} times and is in ${aws_sqs_queue.dlq.name}; fix the cause, then redrive it."

  namespace   = "AWS/SQS"
  metric_name = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.dlq.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = var.alarm_actions
  ok_actions    = var.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "queue_age" {
  alarm_name        = "${var.name}-requests-waiting"
  alarm_description = "Requests queued for ${var.endpoint_name} have waited over ${var.queue_age_alarm_minutes} minutes: the endpoint did not wake, or the replay is off while it serves."

  namespace   = "AWS/SQS"
  metric_name = "ApproximateAgeOfOldestMessage"
  dimensions = {
    QueueName = aws_sqs_queue.requests.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.queue_age_alarm_minutes * 60
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = var.alarm_actions
  ok_actions    = var.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each = local.function_names

  alarm_name        = "${var.name}-${each.key}-errors"
  alarm_description = "The ${var.name}-${each.key} function failed at least once in 5 minutes."

  namespace   = "AWS/Lambda"
  metric_name = "Errors"
  dimensions = {
    FunctionName = "${var.name}-${each.key}"
  }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = var.alarm_actions
  ok_actions    = var.alarm_actions

  tags = var.tags
}
