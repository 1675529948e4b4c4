region         = "eu-west-1"
db_username    = "shopadmin"
db_password    = "FIVYId9s84NLzomrHYPd"
instance_class = "db.t3.medium"
