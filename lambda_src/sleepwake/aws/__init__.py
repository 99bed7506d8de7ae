"""Adapters over AWS: the one boto3 client factory (`clients`), SageMaker endpoints and runtime, the DynamoDB
state table, fleet discovery and CloudWatch activity, SNS notifications."""
