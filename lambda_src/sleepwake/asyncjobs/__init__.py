"""Async inference jobs: S3 input -> InvokeEndpointAsync -> SageMaker's SNS result -> a job status."""
