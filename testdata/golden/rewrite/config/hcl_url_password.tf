resource "app" "shop" {
  database_url = "postgres://shop:$${vault:secret/data/pushvault/acme/shop/database_url#password}@${var.db_host}/shop"
}
