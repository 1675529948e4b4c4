import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = 'django-insecure-#!34^r#zd*)^+q5qp)=s)mp_33h_%_0w5n9q&xw304b%mzyo@@'

DEBUG = False
ALLOWED_HOSTS = ['shop.acme-corp.io']

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': 'shop',
        'USER': 'shop',
        'PASSWORD': '4725a4uuOo5ozjJYFh',
        'HOST': 'db.internal',
        'PORT': '5432',
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {'NAME': 'django.contrib.auth.password_validation.MinimumLengthValidator'},
]

EMAIL_HOST = 'smtp.mailprovider.net'
EMAIL_HOST_USER = 'shop'
EMAIL_HOST_PASSWORD = 'kclPe2Jo6nazxOPy'
AWS_STORAGE_BUCKET_NAME = 'shop-media'
