resource "random_password" "db" {
  length  = 32
  special = true
}

resource "aws_db_instance" "shop" {
  identifier        = "shop"
  engine            = "postgres"
  username          = var.db_username
  password          = random_password.db.result
  kms_key_id        = aws_kms_key.db.arn
  storage_encrypted = true
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = jsonencode({ password = random_password.db.result })
}

variable "db_password_length" {
  default = 32
}

resource "aws_key_pair" "deploy" {
  key_name   = "deploy"
  public_key = file("~/.ssh/deploy.pub")
}
