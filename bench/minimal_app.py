"""The framework's limit: a bare Flask endpoint returning a constant JSON body.

bench/run.py serves it under the service's own gunicorn.conf.py, so HTTP figures
are a ratio to what Flask and gunicorn can do on this machine at all.
"""
from flask import Flask

app = Flask(__name__)
BODY = {"authority": "bench-00001", "as_of": "2015-01-01", "overall": {"grade": 4, "label": "Inadequate"}}


@app.get("/")
def constant():
    """A constant JSON body."""
    return BODY
