"""sagemaker-sleepwake offline: the trace simulator and bench (`sleepwake-simulate`), the trace readers, the
local-emulator driver used by the demo and the tests, and the test doubles. Never part of the Lambda zip."""
