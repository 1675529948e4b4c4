package rewrite

import "testing"

func TestCodePython(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "whole string, import os added after the docstring and __future__", path: "shop/settings.py", golden: "python_import_added.py",
			src: `#!/usr/bin/env python3
"""Shop settings."""
from __future__ import annotations

# Stripe
STRIPE_KEY = "«A»"
DEBUG = False
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "import os added before the first import", path: "app.py", golden: "python_import_first.py",
			src: `import sys

import requests

session = requests.Session()
session.headers["Authorization"] = 'token «B»'
API_KEY = '«A»'
`, reps: []codeRep{{secret: "B", env: "GITHUB_TOKEN"}, {secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "os already imported", path: "app.py", golden: "python_os_imported.py",
			src: `import os, sys

client = Client(api_key="«A»", debug=bool(os.environ.get("DEBUG")))
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "password inside a URL becomes an f-string", path: "db.py", golden: "python_url_password.py",
			src: `import os

DATABASE_URL = "postgres://shop:«PW»@db:5432/shop?opts={}"
OTHER = f'mysql://root:«PW»@{host}/shop'
RAW = r"C:\secrets\«PW»\key"
`, reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "PEM in a triple-quoted string", path: "tls.py", golden: "python_pem.py",
			src: `import os

KEY_PEM = """«PEM»"""

BUNDLE = """
«PEM»
"""
`, reps: []codeRep{{secret: "PEM", env: "TLS_KEY"}}},

		{name: "same secret twice", path: "app.py", golden: "python_twice.py",
			src: `import os

stripe.api_key = "«A»"
headers = {"Authorization": "Bearer «A»"}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY", line: 3}, {secret: "A", env: "STRIPE_API_KEY", line: 4}}},

		{name: "two different secrets", path: "app.py", golden: "python_two_secrets.py",
			src: `import os

CONFIG = {
    "stripe": "«A»",
    "github": '«B»',
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "whole string in an implicit concatenation and bytes", path: "app.py", golden: "python_concat_bytes.py",
			src: `import os

HEADER = "Bearer " "«A»"
TOKEN = b"«B»"
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "inside an f-string expression and next to another string", path: "app.py", golden: "python_nested.py",
			src:  "import os\n\nx = f\"{d['«A»']}\"\ny = 'a' \"pre «B»\"\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "CRLF file gets a CRLF import", path: "app.py", golden: "python_crlf.py",
			src:  "KEY = 'pre «A»'\r\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "braces doubled, named escapes kept, when a string becomes an f-string", path: "app.py", golden: "python_braces.py",
			src:  "import os\n\nMSG = \"\\N{EM DASH} {user} «A»\"\nRAW = r\"\\N{x} «A»\"\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "does not parse before", path: "app.py", golden: "python_unparsable",
			src: "KEY = \"«A»\"\ndef broken(:\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the file does not parse as Python before the edit"},

		{name: "secret in a comment", path: "app.py", golden: "python_comment",
			src: "# rotated «A»\nKEY = 1\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a comment"},

		{name: "secret in a docstring", path: "app.py", golden: "python_docstring",
			src: "def f():\n    \"\"\"Use «A».\"\"\"\n    return 1\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a docstring or a string statement"},

		{name: "literal not found", path: "app.py", golden: "python_not_found",
			src: "KEY = \"«B»\"\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY", line: 1}},
			reason: "the secret was not found in the file"},

		{name: "secret inside part of a bytes literal", path: "app.py", golden: "python_bytes_part",
			src: "AUTH = b\"Bearer «A»\"\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is part of a Python bytes literal"},

		{name: "secret cut inside an escape sequence", path: "app.py", golden: "python_escape_cut",
			src: "KEY = \"x\\«A»\"\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret starts or ends inside an escape sequence"},
	})
}

func TestCodePythonIdentifier(t *testing.T) {
	src := `STRIPE_KEY = "«A»"
config["stripe_key"] = "«A»"
client = Client(api_key="«A»")
d = {"auth": "«B»", 'other': 1}
self.token = "«B»"
os.environ.setdefault("GITHUB_TOKEN", "«B»")
url = "postgres://u:" + "«PW»"
print("«A»")
`
	runCodeIdentCases(t, []codeIdentCase{
		{name: "module constant", path: "a.py", src: src, line: 1, secret: "A", want: "STRIPE_KEY"},
		{name: "subscript assignment", path: "a.py", src: src, line: 2, secret: "A", want: "stripe_key"},
		{name: "keyword argument", path: "a.py", src: src, line: 3, secret: "A", want: "api_key"},
		{name: "dictionary key", path: "a.py", src: src, line: 4, secret: "B", want: "auth"},
		{name: "attribute", path: "a.py", src: src, line: 5, secret: "B", want: "token"},
		{name: "setdefault key", path: "a.py", src: src, line: 6, secret: "B", want: "GITHUB_TOKEN"},
		{name: "through a concatenation", path: "a.py", src: src, line: 7, secret: "PW", want: "url"},
		{name: "call argument has no name", path: "a.py", src: src, line: 8, secret: "A", want: ""},
	})
}
