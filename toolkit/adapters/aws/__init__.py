"""boto3 at the edge: clients for a region and an optional local endpoint, Secrets Manager, the state bucket."""
