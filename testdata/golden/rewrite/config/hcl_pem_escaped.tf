locals {
  key = "vault:secret/data/pushvault/acme/shop/tls_key#value"
}
