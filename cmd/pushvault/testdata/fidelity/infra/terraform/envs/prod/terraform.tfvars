region      = "eu-west-1"
environment = "prod"

vpc_cidr        = "10.20.0.0/16"
private_subnets = ["10.20.1.0/24", "10.20.2.0/24", "10.20.3.0/24"]

instance_types = {
  web    = "t3.medium"
  orders = "m6i.large"
}

github_token = "@@GITHUB@@"

tags = {
  Team       = "platform"
  CostCenter = "shop"
}
