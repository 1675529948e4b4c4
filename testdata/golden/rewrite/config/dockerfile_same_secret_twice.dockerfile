FROM alpine
ENV A=vault:secret/data/pushvault/acme/shop/stripe_api_key#value
RUN <<EOF
echo ENV B=x
EOF
ENV B='vault:secret/data/pushvault/acme/shop/stripe_api_key#value'
