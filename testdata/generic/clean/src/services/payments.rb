class PaymentsClient
  TOKEN_URL = "https://pay.acme-corp.io/oauth/token".freeze

  def initialize(api_key: ENV.fetch("PAYMENTS_API_KEY"), secret: Rails.application.credentials.payments_secret)
    @api_key = api_key
    @secret = secret
  end

  def headers
    { "Authorization" => "Bearer #{@api_key}", "X-Idempotency-Key" => SecureRandom.uuid }
  end
end
