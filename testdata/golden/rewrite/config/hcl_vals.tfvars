# production
region         = "eu-west-1"
stripe_api_key = "ref+vault://secret/data/pushvault/acme/shop/stripe_api_key#/value"
