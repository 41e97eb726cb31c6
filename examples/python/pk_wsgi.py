"""WSGI middleware that authenticates every request with pk_keys.

    app = PkKeysMiddleware(my_wsgi_app, dsn="host=/run/postgresql dbname=api")

* The key comes from ``Authorization: Bearer <key>`` or ``X-API-Key``.
* The pk_authenticate code maps to a status (CODE_STATUS); the rate-limit
  columns, when filled, become X-RateLimit-* headers, and RATE_LIMITED adds
  Retry-After.
* The inner app sees ``environ['pk_keys.key']`` = {key_id, organization_id,
  remaining}.
* Usage is recorded after the response body has been sent (in the response
  iterable's close()), with pk_usage_record when the database has it (1.1),
  else pk_usage_create.

psycopg2 (Debian's python3-psycopg2) sends no server-side prepared
statements, so it works as is behind pgbouncer in transaction pooling mode.
One connection per thread (threading.local), in autocommit mode: each
pk_authenticate commits on its own, as a pooler in transaction mode needs.
"""
import threading
import time

import psycopg2

CODE_STATUS = {
    "VALID": "200 OK",
    "MALFORMED": "401 Unauthorized",
    "NOT_FOUND": "401 Unauthorized",
    "REVOKED": "401 Unauthorized",
    "EXPIRED": "401 Unauthorized",
    "DISABLED": "403 Forbidden",
    "FORBIDDEN": "403 Forbidden",
    "INSUFFICIENT_SCOPE": "403 Forbidden",
    "RATE_LIMITED": "429 Too Many Requests",
    "USAGE_EXCEEDED": "402 Payment Required",
}

# pk_authenticate_request (1.1) also checks the client IP against the
# allowlists (FORBIDDEN); on a 1.0 database, pk_authenticate.
COLUMNS = ("valid, code, key_id::text, organization_id::text, remaining, rate_limit,"
           " rate_limit_remaining, extract(epoch FROM rate_limit_reset)")
AUTH_REQUEST_SQL = "SELECT " + COLUMNS + " FROM pk_keys.pk_authenticate_request(%s, %s::text[], %s, %s::inet)"
AUTH_SQL = "SELECT " + COLUMNS + " FROM pk_keys.pk_authenticate(%s, %s::text[], %s)"
HAS_REQUEST_SQL = (
    "SELECT pg_catalog.to_regprocedure('pk_keys.pk_authenticate_request(text,text[],integer,inet,jsonb,text)')"
    "       IS NOT NULL"
)
HAS_RECORD_SQL = (
    "SELECT pg_catalog.to_regprocedure('pk_keys.pk_usage_record(uuid,text,text,integer,integer,inet,text,timestamptz)')"
    "       IS NOT NULL"
)
RECORD_SQL = "SELECT pk_keys.pk_usage_record(%s, %s, %s, %s, %s, %s::inet, %s)"
CREATE_SQL = "SELECT 1 FROM pk_keys.pk_usage_create(%s, %s, %s, %s, %s, %s::inet, %s)"


def extract_key(environ):
    """The request's key: Bearer token first, then X-API-Key; None if absent."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    parts = auth.split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    key = environ.get("HTTP_X_API_KEY")
    return key or None


def rate_limit_headers(code, limit, left, reset_epoch, now=None):
    """X-RateLimit-* (and Retry-After when refused) from one pk_authenticate row."""
    headers = []
    if limit is not None:
        headers.append(("X-RateLimit-Limit", str(limit)))
    if left is not None:
        headers.append(("X-RateLimit-Remaining", str(left)))
    if reset_epoch is not None:
        reset = float(reset_epoch)
        headers.append(("X-RateLimit-Reset", str(int(-(-reset // 1)))))
        if code == "RATE_LIMITED":
            wait = reset - (time.time() if now is None else now)
            headers.append(("Retry-After", str(max(1, int(-(-wait // 1))))))
    return headers


class PkKeysMiddleware:
    """Wraps a WSGI app; see the module docstring."""

    def __init__(self, app, dsn, required_scopes=(), record_usage=True):
        """required_scopes: a list, or a function of the environ returning one."""
        self.app = app
        self.dsn = dsn
        self.required_scopes = required_scopes if callable(required_scopes) else (lambda _e, s=list(required_scopes): s)
        self.record_usage = record_usage
        self.local = threading.local()
        cur = self._conn().cursor()
        cur.execute(HAS_RECORD_SQL)
        self.usage_sql = RECORD_SQL if cur.fetchone()[0] else CREATE_SQL
        cur.execute(HAS_REQUEST_SQL)
        self.has_request = cur.fetchone()[0]

    def _conn(self):
        conn = getattr(self.local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg2.connect(self.dsn)
            conn.autocommit = True
            self.local.conn = conn
        return conn

    def _refuse(self, start_response, status, code, headers):
        body = ('{"error": "%s"}' % code).encode()
        if status.startswith("401"):
            headers.append(("WWW-Authenticate", 'Bearer error="invalid_token"' if code != "MISSING_KEY" else "Bearer"))
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))] + headers)
        return [body]

    def __call__(self, environ, start_response):
        started = time.monotonic()
        key = extract_key(environ)
        if key is None:
            return self._refuse(start_response, "401 Unauthorized", "MISSING_KEY", [])
        cur = self._conn().cursor()
        scopes = list(self.required_scopes(environ))
        if self.has_request:
            cur.execute(AUTH_REQUEST_SQL, (key, scopes, 1, environ.get("REMOTE_ADDR") or None))
        else:
            cur.execute(AUTH_SQL, (key, scopes, 1))
        valid, code, key_id, org_id, remaining, limit, left, reset = cur.fetchone()
        headers = rate_limit_headers(code, limit, left, reset)
        if not valid:
            return self._refuse(start_response, CODE_STATUS.get(code, "401 Unauthorized"), code, headers)
        environ["pk_keys.key"] = {"key_id": key_id, "organization_id": org_id, "remaining": remaining}
        status_holder = []

        def start(status, response_headers, exc_info=None):
            status_holder.append(int(status.split()[0]))
            return start_response(status, response_headers + headers, exc_info)

        body = self.app(environ, start)
        return _AfterResponse(body, lambda: self._record(environ, key_id, status_holder, started))

    def _record(self, environ, key_id, status_holder, started):
        if not self.record_usage:
            return
        ms = int((time.monotonic() - started) * 1000)
        try:
            self._conn().cursor().execute(self.usage_sql, (
                key_id, environ.get("PATH_INFO", "/")[:512], environ.get("REQUEST_METHOD", "GET"),
                status_holder[0] if status_holder else 500, ms, environ.get("REMOTE_ADDR") or None,
                (environ.get("HTTP_USER_AGENT") or "")[:256] or None))
        except psycopg2.Error as err:  # the client already has its answer
            environ["wsgi.errors"].write("pk_keys usage record failed: %s\n" % err)


class _AfterResponse:
    """A response iterable that runs `after` once the server has sent it."""

    def __init__(self, body, after):
        self.body = body
        self.after = after

    def __iter__(self):
        return iter(self.body)

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.after()
