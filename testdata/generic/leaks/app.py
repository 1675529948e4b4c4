from flask import Flask

app = Flask(__name__)
app.config['SECRET_KEY'] = 'h6VbeVgaBnRimyXEhOOGoN0htKB7MkSh'
app.config["MAIL_PASSWORD"] = "Harbor55!6TNwo"
app.config["MAIL_USERNAME"] = "shop"


@app.route("/")
def index():
    return "ok"
