# One dashboard per manager, built only from what exists anyway: SageMaker's own Invocations metric, the
# manager's Lambda metrics and the manager's JSON log lines (sleepwake.common.observability). No custom metrics:
# one per endpoint would cost $0.30 a month each, forever, for numbers the logs already hold.
locals {
  dashboard_name = "${var.name}-sleepwake"

  # Logs Insights reads the manager's JSON lines: `message` is the event, `endpoint_name` comes from the log
  # context, the rest are the fields passed to log_event (see sleepwake.manager.service and sleepwake.aws.notify).
  dashboard_log_source = "SOURCE '${local.log_group_name}'"

  dashboard_queries = {
    state = <<-EOT
      ${local.dashboard_log_source}
      | filter message = "decision"
      | stats latest(state) as state, latest(sagemaker_status) as sagemaker_status, latest(instance_type) as instance_type, latest(serving_reason) as serving_reason, latest(idle_seconds) as idle_seconds, latest(cost_today_usd) as cost_today_usd, latest(detail) as last_decision, max(@timestamp) as decided_at by endpoint_name
      | sort endpoint_name asc
    EOT
    # A create or delete that found the work already done logs created/deleted false (another wake won
    # the race, or the endpoint was already gone): only the ones that acted count.
    wakes_and_sleeps = <<-EOT
      ${local.dashboard_log_source}
      | filter message in ["create_endpoint", "delete_endpoint"]
      | fields strcontains(@message, '"created": true') as is_wake, strcontains(@message, '"deleted": true') as is_sleep
      | stats sum(is_wake) as wakes, sum(is_sleep) as sleeps, max(@timestamp) as last_action_at by endpoint_name
      | sort wakes desc
    EOT
    # The sleep notification carries the time awake and its cost (instance price x time), per endpoint.
    cost = <<-EOT
      ${local.dashboard_log_source}
      | filter message = "notification" and event = "sleep"
      | fields detail.awake_seconds / 3600 as awake_hours
      | stats count(*) as sleeps, sum(awake_hours) as awake_hours_total, sum(detail.cost_usd) as cost_usd by endpoint_name
      | sort cost_usd desc
    EOT
    # The daily savings report (the first tick of each day, when a notification topic is set): yesterday's hours
    # awake and cost against always-on, wakes, waits, and the cheapest idle policy on the same traffic.
    savings       = <<-EOT
      ${local.dashboard_log_source}
      | filter message = "daily report"
      | stats latest(instance_type) as instance_type, latest(awake_hours) as awake_hours, latest(cost_usd) as cost_usd, latest(always_on_usd) as always_on_usd, latest(saved_usd) as saved_usd, latest(wakes) as wakes, latest(requests_waited) as requests_waited, latest(wait_p95_seconds) as wait_p95_seconds, latest(cheapest_policy) as cheapest_policy, latest(cheapest_total_usd) as cheapest_total_usd by endpoint_name, day
      | sort day desc, endpoint_name asc
    EOT
    notifications = <<-EOT
      ${local.dashboard_log_source}
      | filter message = "notification" or level in ["ERROR", "CRITICAL"]
      | stats count(*) as count, max(@timestamp) as last_at by endpoint_name, message, event
      | sort last_at desc
    EOT
  }

  dashboard_console_host = lookup({
    "aws-cn"     = "console.amazonaws.cn"
    "aws-us-gov" = "console.amazonaws-us-gov.com"
  }, local.partition, "console.aws.amazon.com")
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = local.dashboard_name

  dashboard_body = jsonencode({
    widgets = [
      {
        type   = "text"
        x      = 0
        y      = 0
        width  = 24
        height = 2
        properties = {
          markdown = "## Sleep/wake manager `${local.function_name}` (${var.environment_name})\nInvocations come from SageMaker's own `AWS/SageMaker` metric, so endpoints found by tag appear without being listed here. State, idle time, wakes, sleeps and cost come from the manager's log group `${local.log_group_name}`. Costs are estimates: the serving instance type's price (on-demand us-east-1, or your hourly_price_overrides) x time awake."
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 2
        width  = 12
        height = 6
        properties = {
          title  = "Invocations per endpoint (all variants summed)"
          view   = "timeSeries"
          region = local.region
          period = 300
          stat   = "Sum"
          # SEARCH returns one series per variant and cannot add them up; a Metrics Insights GROUP BY can.
          # SCHEMA keeps exactly the (EndpointName, VariantName) metrics the manager reads as activity.
          metrics = [[{
            id         = "invocations"
            expression = "SELECT SUM(Invocations) FROM SCHEMA(\"AWS/SageMaker\", EndpointName, VariantName) GROUP BY EndpointName ORDER BY SUM() DESC LIMIT 100"
            period     = 300
          }]]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 2
        width  = 12
        height = 6
        properties = {
          title  = "Invocations per endpoint and variant"
          view   = "timeSeries"
          region = local.region
          period = 300
          stat   = "Sum"
          # SEARCH finds every endpoint's variants at view time (and reaches further back than Metrics
          # Insights' two weeks).
          metrics = [[{
            id         = "search"
            expression = "SEARCH('{AWS/SageMaker,EndpointName,VariantName} MetricName=\"Invocations\"', 'Sum', 300)"
            period     = 300
          }]]
        }
      },
      {
        type   = "log"
        x      = 0
        y      = 8
        width  = 24
        height = 6
        properties = {
          title  = "State, serving instance type (and why), idle time and estimated cost today per endpoint (latest decision)"
          view   = "table"
          region = local.region
          query  = local.dashboard_queries.state
        }
      },
      {
        type   = "log"
        x      = 0
        y      = 14
        width  = 12
        height = 6
        properties = {
          title  = "Wakes and sleeps per endpoint"
          view   = "table"
          region = local.region
          query  = local.dashboard_queries.wakes_and_sleeps
        }
      },
      {
        type   = "log"
        x      = 12
        y      = 14
        width  = 12
        height = 6
        properties = {
          title  = "Time awake and estimated cost of completed awake periods"
          view   = "table"
          region = local.region
          query  = local.dashboard_queries.cost
        }
      },
      {
        type   = "log"
        x      = 0
        y      = 20
        width  = 12
        height = 6
        properties = {
          title  = "Notifications (wake, ready, sleep, failure) and errors"
          view   = "table"
          region = local.region
          query  = local.dashboard_queries.notifications
        }
      },
      {
        type   = "log"
        x      = 0
        y      = 26
        width  = 24
        height = 6
        properties = {
          title  = "Savings per endpoint and day: awake vs always-on, wakes, waits, cheapest idle policy on the same traffic (needs a notification topic)"
          view   = "table"
          region = local.region
          query  = local.dashboard_queries.savings
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 20
        width  = 12
        height = 6
        properties = {
          title  = "Manager ${local.function_name}: errors, throttles, duration"
          view   = "timeSeries"
          region = local.region
          period = 300
          metrics = [
            ["AWS/Lambda", "Errors", "FunctionName", local.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Throttles", "FunctionName", local.function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Duration", "FunctionName", local.function_name, { stat = "Average", yAxis = "right" }],
            ["AWS/Lambda", "Duration", "FunctionName", local.function_name, { stat = "Maximum", yAxis = "right" }],
          ]
        }
      },
    ]
  })
}
