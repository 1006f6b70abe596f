"""DynamoDB repositories and the S3 blob store (boto3)."""
