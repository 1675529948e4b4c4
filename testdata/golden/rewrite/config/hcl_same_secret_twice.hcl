prod { token = "vault:secret/data/pushvault/acme/shop/stripe_api_key#value" }
staging { token = "vault:secret/data/pushvault/acme/shop/stripe_api_key#value" }
