# What the release needs in each region, on the null provider so it runs anywhere.
# A real configuration would create the function's alarm, log group, IAM role, and so on;
# its outputs are what rollout reads as {tf.NAME}.
terraform {
  required_version = ">= 1.0"
  backend "local" {}

  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

variable "region" {
  type = string
}

variable "release" {
  type = string
}

resource "null_resource" "api_config" {
  triggers = {
    region  = var.region
    release = var.release
  }
}

output "api_function_name" {
  value = "api-${var.region}"
}

output "api_alarm_name" {
  value = "api-errors-${var.region}"
}

output "config_id" {
  value = null_resource.api_config.id
}

# The private API the region's proxy forwards to (a real configuration would output
# aws_api_gateway_stage.x.invoke_url).
output "api_url" {
  value = "https://orders-${var.region}.execute-api.${var.region}.amazonaws.com/prod"
}
