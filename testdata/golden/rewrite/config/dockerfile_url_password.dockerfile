FROM alpine
ENV DATABASE_URL="postgres://shop:\${vault:secret/data/pushvault/acme/shop/database_url#password}@db/shop" PORT=80
