variable "region" {
  type        = string
  description = "AWS region; the image must be in this region's registry."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Name of the endpoint and prefix of everything else (lower case: the gateway's bucket carries it)."
  default     = "sentiment"
}

variable "image_uri" {
  type        = string
  description = "Inference image (GPU images work)."
  default     = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
}

variable "model_data_url" {
  type        = string
  description = "S3 URI of the model artifact."
  default     = "s3://my-models-bucket/sentiment/model.tar.gz"
}

variable "lambda_package_path" {
  type        = string
  description = "The Lambda zip that `make build` writes."
  default     = "../../build/sleepwake.zip"
}
