# production
region         = "eu-west-1"
stripe_api_key = "$${STRIPE_API_KEY}"
