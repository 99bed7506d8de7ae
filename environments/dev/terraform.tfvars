# dev: a real-time GPU endpoint that sleeps when idle. Change image URIs and model_data_url to your own model
# before `make apply ENV=dev`.

region           = "us-east-1"
name             = "sleepwake-dev"
environment_name = "dev"

# realtime | serverless | async. Change this line and apply again to switch; every block below stays ready
# (docs/modes.md says what a switch does and costs).
inference_mode = "realtime"

# Placeholder: a model.tar.gz in a bucket of yours (the execution role may read exactly this object).
model_data_url = "s3://my-models-bucket/my-model/model.tar.gz"

model_environment = {
  # HF_TASK = "text-classification"
}

# AWS Deep Learning Containers for Hugging Face inference. The account 763104351884 hosts them in most regions;
# keep the image in the endpoint's region.
realtime = {
  image_uri            = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
  instance_type        = "ml.g4dn.xlarge"
  instance_count       = 1
  idle_timeout_minutes = 15
}

serverless = {
  image_uri         = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-cpu-py310-ubuntu22.04"
  memory_size_in_mb = 4096
  max_concurrency   = 5
}

async = {
  image_uri          = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
  instance_type      = "ml.g4dn.xlarge"
  max_instance_count = 1
  # The default: a switch away from async (or a destroy) deletes the buckets with whatever inputs and results
  # they hold. false keeps them: the switch then stops at a non-empty bucket until you empty it.
  force_destroy_buckets = true
}

# notification_topic_arn = "arn:aws:sns:us-east-1:123456789012:sleepwake-dev-notifications"
