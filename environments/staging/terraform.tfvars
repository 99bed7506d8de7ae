# staging: async inference. Jobs are uploaded to S3 and answered through S3 + SNS; the GPU instances scale to zero
# when the queue is empty. Change image URIs and model_data_url to your own model before `make apply ENV=staging`.

region           = "us-east-1"
name             = "sleepwake-staging"
environment_name = "staging"

# realtime | serverless | async. Change this line and apply again to switch (docs/modes.md).
inference_mode = "async"

model_data_url = "s3://my-models-bucket/my-model/model.tar.gz"

model_environment = {
  # HF_TASK = "text-classification"
}

realtime = {
  image_uri            = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
  instance_type        = "ml.g4dn.xlarge"
  idle_timeout_minutes = 30
}

serverless = {
  image_uri         = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-cpu-py310-ubuntu22.04"
  memory_size_in_mb = 4096
  max_concurrency   = 10
}

async = {
  image_uri                               = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
  instance_type                           = "ml.g4dn.xlarge"
  min_instance_count                      = 0
  max_instance_count                      = 2
  target_backlog_per_instance             = 5
  max_concurrent_invocations_per_instance = 1
  output_expiration_days                  = 14
}

# notification_topic_arn = "arn:aws:sns:us-east-1:123456789012:sleepwake-staging-alarms"
