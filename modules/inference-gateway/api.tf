locals {
  routes = toset([
    "POST /invoke",
    "GET /requests/{id}",
    "GET /status",
    "GET /lease",
    "POST /lease",
    "DELETE /lease",
  ])

  # execute-api ARNs of the routes (arn:...:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>),
  # path parameters as "*": what an IAM caller needs for execute-api:Invoke.
  route_arns = [
    for route in sort(local.routes) :
    "${aws_apigatewayv2_api.this.execution_arn}/$default/${split(" ", route)[0]}${replace(split(" ", route)[1], "{id}", "*")}"
  ]
}

resource "aws_apigatewayv2_api" "this" {
  name          = "${var.name}-inference"
  description   = "Wake-aware inference API of the ${var.endpoint_name} SageMaker endpoint"
  protocol_type = "HTTP"

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (log_retention_days, default 30 days).
  #checkov:skip=CKV_AWS_158:Logs are always encrypted; a customer managed key is used when kms_key_arn is given.
  name              = "/aws/apigateway/${var.name}-inference"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
    detailed_metrics_enabled = true
  }

  # One JSON line per request. No header is logged: Authorization carries a token.
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      time               = "$context.requestTime"
      ip                 = "$context.identity.sourceIp"
      method             = "$context.httpMethod"
      path               = "$context.path"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      latencyMs          = "$context.responseLatency"
      integrationStatus  = "$context.integrationStatus"
      integrationError   = "$context.integrationErrorMessage"
      authorizerError    = "$context.authorizer.error"
      tokenName          = "$context.authorizer.token_name"
      iamPrincipal       = "$context.identity.userArn"
      integrationLatency = "$context.integrationLatency"
    })
  }

  tags = var.tags
}

resource "aws_apigatewayv2_integration" "gateway" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.this["gateway"].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

resource "aws_apigatewayv2_authorizer" "token" {
  count = local.token_auth ? 1 : 0

  api_id                            = aws_apigatewayv2_api.this.id
  name                              = "bearer-token"
  authorizer_type                   = "REQUEST"
  authorizer_uri                    = aws_lambda_function.this["authorizer"].invoke_arn
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = true
  # A request without this header gets 401 from API Gateway itself, without invoking the authorizer; the
  # authorizer's answer is cached per header value for the TTL.
  identity_sources                 = ["$request.header.Authorization"]
  authorizer_result_ttl_in_seconds = var.authorizer_cache_ttl_seconds
}

resource "aws_apigatewayv2_route" "this" {
  for_each = local.routes

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.gateway.id}"
  authorization_type = local.token_auth ? "CUSTOM" : "AWS_IAM"
  authorizer_id      = local.token_auth ? aws_apigatewayv2_authorizer.token[0].id : null
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowInferenceApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["gateway"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

resource "aws_lambda_permission" "authorizer" {
  count = local.token_auth ? 1 : 0

  statement_id  = "AllowInferenceApiAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["authorizer"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.token[0].id}"
}
