"""gunicorn's settings for guestbook: loopback only, on the port Taxiway assigns."""

import os

bind = f"127.0.0.1:{os.environ['PORT']}"
workers = 2
accesslog = "-"
