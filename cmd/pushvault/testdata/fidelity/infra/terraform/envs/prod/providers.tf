terraform {
  required_version = ">= 1.6"
  required_providers {
    github = {
      source  = "integrations/github"
      version = "~> 6.0"
    }
  }
}

provider "github" {
  owner = "acme"
  token = "@@GITHUB@@"
}

resource "github_repository" "shop" {
  name       = "shop"
  visibility = "private"
}
