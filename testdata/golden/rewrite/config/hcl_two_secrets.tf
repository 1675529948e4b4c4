variable "stripe_api_key" {
  type    = string
  default = "vault:secret/data/pushvault/acme/shop/stripe_api_key#value"
}

locals {
  tokens = { github = "vault:secret/data/pushvault/acme/shop/github_token#value", other = [1, 2] }
}
