resource "aws_cloudwatch_event_rule" "schedule" {
  name                = "${var.name}-schedule"
  description         = "Tick of the sleep/wake manager: puts idle endpoints to sleep and retries failed ones"
  schedule_expression = var.schedule_expression

  tags = var.tags
}

# The scheduled event goes through unchanged: the handler recognises detail-type "Scheduled Event".
resource "aws_cloudwatch_event_target" "schedule" {
  rule      = aws_cloudwatch_event_rule.schedule.name
  target_id = "sleepwake-manager"
  arn       = aws_lambda_function.this.arn
}

resource "aws_lambda_permission" "schedule" {
  statement_id  = "AllowScheduleInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule.arn
}

# SageMaker publishes endpoint status changes to the default event bus; the manager records them at
# once instead of waiting for the next tick.
resource "aws_cloudwatch_event_rule" "state_change" {
  name        = "${var.name}-state-change"
  description = local.fleet_enabled ? "SageMaker endpoint status changes, for the sleep/wake manager (fleet mode)" : "SageMaker status changes of the endpoints the sleep/wake manager owns"

  # Fleet mode: which endpoints carry the opt-in tag is only known at run time, so every endpoint's state
  # change is forwarded. The handler ignores endpoints that are neither declared nor opted in (it answers
  # "not a managed endpoint" without touching them). Without fleet mode, only the declared names match.
  event_pattern = jsonencode(merge(
    {
      source      = ["aws.sagemaker"]
      detail-type = ["SageMaker Endpoint State Change"]
    },
    local.fleet_enabled ? {} : { detail = { EndpointName = sort(keys(var.endpoints)) } },
  ))

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "state_change" {
  rule      = aws_cloudwatch_event_rule.state_change.name
  target_id = "sleepwake-manager"
  arn       = aws_lambda_function.this.arn
}

resource "aws_lambda_permission" "state_change" {
  statement_id  = "AllowStateChangeInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.state_change.arn
}
