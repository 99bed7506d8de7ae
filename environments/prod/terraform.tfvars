# prod: serverless inference on CPU. Nothing runs (or bills) between requests, and no request waits minutes for a
# GPU to start; the model must fit a CPU container with at most 6 GB of memory. Change image URIs and
# model_data_url to your own model before `make apply ENV=prod`.

region           = "us-east-1"
name             = "sleepwake-prod"
environment_name = "prod"

# realtime | serverless | async. Change this line and apply again to switch (docs/modes.md).
inference_mode = "serverless"

model_data_url = "s3://my-models-bucket/my-model/model.tar.gz"

model_environment = {
  # HF_TASK = "text-classification"
}

realtime = {
  image_uri            = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
  instance_type        = "ml.g5.xlarge"
  instance_count       = 1
  idle_timeout_minutes = 60
}

serverless = {
  image_uri         = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-cpu-py310-ubuntu22.04"
  memory_size_in_mb = 6144
  max_concurrency   = 50
  # Keeps 2 invocations warm (no cold start for them) and bills for them around the clock; null = $0 idle.
  provisioned_concurrency = null
}

async = {
  image_uri          = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
  instance_type      = "ml.g5.xlarge"
  max_instance_count = 4
}

# notification_topic_arn = "arn:aws:sns:us-east-1:123456789012:sleepwake-prod-alarms"
