# Terraform never owns the endpoints the manager creates. When the manager is destroyed (`terraform destroy`, or
# the environment switching from real-time to another inference mode), Terraform first destroys this
# invocation, which calls the manager with {"tf": {"action": "delete"}, "endpoints": [...]}: the manager deletes
# every listed endpoint that still exists, so none keeps running (and billing) without its manager. If SageMaker
# refuses a delete (an endpoint still Creating), the invocation fails and the destroy stops before the manager
# goes; apply again once the endpoint has settled. Create and update invocations do nothing.
resource "aws_lambda_invocation" "teardown" {
  count = var.delete_endpoints_on_destroy ? 1 : 0

  function_name   = aws_lambda_function.this.function_name
  lifecycle_scope = "CRUD"
  input           = jsonencode({ endpoints = sort(keys(var.endpoints)) })

  # The function needs its permissions (DeleteEndpoint) until the invocation is gone; destroy runs in reverse.
  depends_on = [aws_iam_role_policy.this]
}
