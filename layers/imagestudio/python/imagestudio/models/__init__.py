"""Pydantic records (what DynamoDB holds) and their API views."""
