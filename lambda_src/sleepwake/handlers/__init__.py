"""Thin Lambda entry points: parse the event, call the service, shape the answer."""
