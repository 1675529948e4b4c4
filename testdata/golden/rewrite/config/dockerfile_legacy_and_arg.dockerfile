ARG BASE=alpine
FROM ${BASE}
ENV STRIPE_API_KEY vault:secret/data/pushvault/acme/shop/stripe_api_key#value
ARG GITHUB_TOKEN="vault:secret/data/pushvault/acme/shop/github_token#value"
