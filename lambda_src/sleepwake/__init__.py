"""sagemaker-sleepwake: SageMaker inference that costs nothing while nobody uses it."""

__version__ = "0.1.0"
