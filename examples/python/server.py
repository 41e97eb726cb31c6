"""The example API in Python: a tiny WSGI app behind PkKeysMiddleware, served
by wsgiref on loopback (one thread per request).

    PK_DSN="host=/run/postgresql dbname=api" PORT=8000 python3 server.py
"""
import json
import os
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pk_wsgi import PkKeysMiddleware  # noqa: E402


def hello(environ, start_response):
    """GET /v1/hello: who the caller is, as pk_keys told the middleware."""
    path = environ.get("PATH_INFO")
    if path == "/v1/admin":
        body = json.dumps({"admin": True, "key_id": environ["pk_keys.key"]["key_id"]}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    if path != "/v1/hello":
        body = b'{"error": "NOT_FOUND_ROUTE"}'
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [body]
    key = environ["pk_keys.key"]
    body = json.dumps({"hello": "world", **key}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def route_scopes(environ):
    """The scopes a route needs: /v1/admin needs 'admin', the rest none."""
    return ["admin"] if environ.get("PATH_INFO") == "/v1/admin" else []


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    app = PkKeysMiddleware(hello, os.environ.get("PK_DSN", ""), required_scopes=route_scopes,
                           record_usage=os.environ.get("PK_RECORD_USAGE", "1") != "0")
    httpd = make_server(os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8000")), app,
                        server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    print("listening on http://%s:%d (usage via %s)" % (httpd.server_address[0], httpd.server_address[1],
          "pk_usage_record" if "record" in app.usage_sql else "pk_usage_create"), flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
