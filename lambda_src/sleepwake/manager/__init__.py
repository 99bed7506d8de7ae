"""The sleep/wake manager: read, decide (`sleepwake.domain.lifecycle`), commit conditionally, then act
(`service`); its events, the in-flight and activity recorder that apps and the gateway use, and teardown."""
