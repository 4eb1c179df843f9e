"""NGINX domain mappings: custom domain names in front of private API Gateway endpoints."""
