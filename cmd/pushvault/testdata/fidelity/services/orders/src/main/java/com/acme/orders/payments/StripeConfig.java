package com.acme.orders.payments;

import java.time.Duration;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Stripe client settings for the orders service.
 */
@Configuration
public class StripeConfig {

    private static final String SECRET_KEY = "@@STRIPE@@";

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Bean
    public StripeClient stripeClient() {
        return new StripeClient(SECRET_KEY, TIMEOUT);
    }
}
