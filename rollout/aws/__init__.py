"""AWS adapters: the only modules that call boto3. Each turns AWS errors into rollout's errors."""
