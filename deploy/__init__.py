"""Deployment material: a local production-like stack (Redis with AOF, several service
instances, HAProxy in front), brought up and down by `python -m deploy.stack`."""
