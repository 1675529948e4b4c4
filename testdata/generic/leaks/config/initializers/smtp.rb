ActionMailer::Base.smtp_settings = {
  address: 'smtp.mailprovider.net',
  port: 587,
  user_name: 'shop',
  password: 'yKjkDYyXM173DsWH',
  authentication: :plain,
  enable_starttls_auto: true
}
