import hashlib
import os
import secrets

password = hashlib.sha256(os.urandom(16)).hexdigest()
auth_token = request.headers.get("X-Auth-Token")
secret = secrets.token_urlsafe(32)
PASSWORD_RESET_TEMPLATE = "emails/password_reset.html"
TOKEN_ENCRYPTION_ALGORITHM = "HS256"
secret_version = "projects/481516/secrets/shop-db/versions/latest"
