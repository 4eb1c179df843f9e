# Real resources from the null provider 2.1.2 (installed by the test extra, used through
# `init -plugin-dir`): add/change counts, and an apply that takes as long as `sleep` says.
terraform {
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
  type    = string
  default = "v1"
}

variable "sleep" {
  type    = number
  default = 0
}

variable "fail_in" {
  type    = string
  default = "nowhere"
}

resource "null_resource" "api" {
  triggers = {
    region  = var.region
    release = var.release
  }

  provisioner "local-exec" {
    command = "sleep ${var.sleep}; test ${var.region} != ${var.fail_in}"
  }
}

output "function_name" {
  value = "api-${var.region}"
}

output "release_id" {
  value = null_resource.api.id
}
