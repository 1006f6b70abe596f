"""Batches: many studio operations from one CSV or JSON list, run as one job with a result manifest."""
