"""Postbox core: models, rules, storage and integrations shared by every Lambda function."""
