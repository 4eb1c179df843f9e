# Needs no provider: variables, locals and outputs only (one of them sensitive).
terraform {
  backend "local" {}
}

variable "region" {
  type = string
}

variable "tag" {
  type    = string
  default = "v1"
}

variable "sizes" {
  type    = list(number)
  default = []
}

locals {
  name = "api-${var.region}"
}

output "function_name" {
  value = local.name
}

output "tag" {
  value = var.tag
}

output "sizes" {
  value = var.sizes
}

output "token" {
  value     = "s3cr3t-${var.region}"
  sensitive = true
}

output "db" {
  value = {
    user     = "admin"
    password = "hunter2-pw-${var.region}"
  }
  sensitive = true
}

output "pin" {
  value     = "42"
  sensitive = true
}

output "api_url" {
  value = "https://api-${var.region}.execute-api.${var.region}.amazonaws.com/dev/orders"
}
