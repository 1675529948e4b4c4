package com.acme.orders;

import org.springframework.beans.factory.annotation.Value;

public class SecurityConfig {
    private static final String TOKEN_PREFIX = "Bearer ";
    private static final String PASSWORD_PARAMETER = "password";
    private static final int PASSWORD_MIN_LENGTH = 12;

    @Value("${jwt.secret}")
    private String jwtSecret;

    @Value("${jwt.token-validity-in-seconds}")
    private long tokenValidity;

    void configure(Http http) {
        http.formLogin().passwordParameter("password").usernameParameter("email");
        String secretKeyRef = System.getenv("JWT_SECRET_REF");
    }
}
