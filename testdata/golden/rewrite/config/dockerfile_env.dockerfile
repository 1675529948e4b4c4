# syntax=docker/dockerfile:1
FROM node:20-alpine
WORKDIR /app
ENV NODE_ENV=production \
    STRIPE_API_KEY=${STRIPE_API_KEY}
COPY . .
CMD ["node", "server.js"]
