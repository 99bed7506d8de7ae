# Example values: change image_uri and model_data_url to your own model before `make apply ENV=dev`.

region = "us-east-1"
name   = "sleepwake-dev"

# AWS Deep Learning Container for Hugging Face inference (PyTorch 2.1, CUDA 11.8). The account
# 763104351884 hosts the DLCs in most regions; keep the image in the same region as the endpoint.
image_uri = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"

# Placeholder: a model.tar.gz in a bucket of yours (the execution role may read exactly this object).
model_data_url = "s3://my-models-bucket/my-model/model.tar.gz"

model_environment = {
  # HF_TASK = "text-classification"
}

instance_type        = "ml.g4dn.xlarge"
instance_count       = 1
idle_timeout_minutes = 15

# notification_topic_arn = "arn:aws:sns:us-east-1:123456789012:sleepwake-dev-notifications"
