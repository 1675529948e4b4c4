FROM alpine
ENV DATABASE_URL=postgres://shop:${DATABASE_PASSWORD}@db/shop
