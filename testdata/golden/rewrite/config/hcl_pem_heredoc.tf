resource "tls_cert" "x" {
  private_key = "vault:secret/data/pushvault/acme/shop/tls_key#value"
  ttl = 3600
}
