# syntax=docker/dockerfile:1
FROM node:20-alpine
WORKDIR /app
ENV NODE_ENV=production \
    STRIPE_API_KEY=vault:secret/data/pushvault/acme/shop/stripe_api_key#value
COPY . .
CMD ["node", "server.js"]
