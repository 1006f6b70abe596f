"""Offline stack: emulates the deployed system from template.yaml."""
