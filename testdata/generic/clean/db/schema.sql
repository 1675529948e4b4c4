CREATE TABLE users (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_digest varchar(255) NOT NULL,
    api_token_hash char(64),
    reset_password_token varchar(255),
    reset_password_sent_at timestamp
);
INSERT INTO settings (name, value) VALUES ('password_min_length', '12');
