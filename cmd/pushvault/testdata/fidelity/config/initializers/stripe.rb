# frozen_string_literal: true

require "stripe"

Rails.configuration.stripe = {
  publishable_key: "pk_test_TYooMQauvdEDq54NiTphI7jx",
}

STRIPE_SECRET_KEY = "@@STRIPE@@"
Stripe.api_version = "2024-06-20"
Stripe.max_network_retries = 2
