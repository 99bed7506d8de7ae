# SageMaker publishes endpoint status changes to the default event bus. The replay switch reads the endpoint's
# status afresh on each one (events can arrive late or out of order) and turns the replay on or off.
resource "aws_cloudwatch_event_rule" "state_change" {
  name        = "${var.name}-replay-state-change"
  description = "Status changes of ${var.endpoint_name}: switch the replay of queued requests on or off"

  event_pattern = jsonencode({
    source      = ["aws.sagemaker"]
    detail-type = ["SageMaker Endpoint State Change"]
    detail = {
      EndpointName = [var.endpoint_name]
    }
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "state_change" {
  rule      = aws_cloudwatch_event_rule.state_change.name
  target_id = "sleepwake-replay-control"
  arn       = aws_lambda_function.replay_control.arn
}

resource "aws_lambda_permission" "state_change" {
  statement_id  = "AllowStateChangeInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.replay_control.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.state_change.arn
}

# Belt and braces: a missed state-change event would leave queued requests waiting (or the replay on while
# the endpoint sleeps), so the switch is also reconciled on a schedule. One small invocation each time.
resource "aws_cloudwatch_event_rule" "reconcile" {
  name                = "${var.name}-replay-reconcile"
  description         = "Reconciles the replay switch of ${var.endpoint_name} with its status, in case an event was missed"
  schedule_expression = var.replay.reconcile_schedule

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "reconcile" {
  rule      = aws_cloudwatch_event_rule.reconcile.name
  target_id = "sleepwake-replay-control"
  arn       = aws_lambda_function.replay_control.arn
}

resource "aws_lambda_permission" "reconcile" {
  statement_id  = "AllowReconcileInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.replay_control.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.reconcile.arn
}
