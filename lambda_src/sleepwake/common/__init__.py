"""What every part of the package stands on: the clock, strict parsing of untrusted input, the two errors entry
points answer with, configuration helpers, time formatting, logging and tracing. Imports nothing from above."""
