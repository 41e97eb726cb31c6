// fastify plugin: authenticates every request with one pk_keys call and
// records its usage after the response has been sent.
//
//   app.register(require('./pk-auth'), { pool, requiredScopes: ['read'] })
//   app.get('/admin', { config: { pkScopes: ['admin'] } }, handler)   // per route
//
// * The key comes from `Authorization: Bearer <key>` or `x-api-key: <key>`.
// * The code maps to a status (CODE_STATUS below); the rate-limit columns,
//   when pk_authenticate fills them, become X-RateLimit-* headers, and a
//   RATE_LIMITED answer carries Retry-After.
// * Queries are UNNAMED (no `name:` in the query config): node-pg's named
//   prepared statements break behind pgbouncer in transaction pooling mode,
//   where consecutive statements of one client may run on different server
//   connections ("prepared statement ... already exists" / "does not exist").
'use strict';

const fp = require('fastify-plugin');

// Every pk_authenticate code and the HTTP status it becomes.
const CODE_STATUS = {
  VALID: 200,
  MALFORMED: 401,
  NOT_FOUND: 401,
  REVOKED: 401,
  EXPIRED: 401,
  DISABLED: 403,
  FORBIDDEN: 403,
  INSUFFICIENT_SCOPE: 403,
  RATE_LIMITED: 429,
  USAGE_EXCEEDED: 402,
};

// pk_authenticate_request (1.1) also checks the client IP against the key's
// or organization's allowlist (FORBIDDEN); on a 1.0 database, pk_authenticate.
const COLUMNS = 'valid, code, key_id, organization_id, remaining, rate_limit, rate_limit_remaining, rate_limit_reset';
const AUTH_REQUEST_SQL = `SELECT ${COLUMNS} FROM pk_keys.pk_authenticate_request($1, $2::text[], $3, $4::inet)`;
const AUTH_SQL = `SELECT ${COLUMNS} FROM pk_keys.pk_authenticate($1, $2::text[], $3)`;
const HAS_REQUEST_SQL =
  "SELECT pg_catalog.to_regprocedure('pk_keys.pk_authenticate_request(text,text[],integer,inet,jsonb,text)')" +
  '       IS NOT NULL AS has_request';

// pk_usage_record (1.1: queued in shared memory when preloaded) when the
// database has it, else pk_usage_create (1.0: one row per call).
const RECORD_FN_SQL =
  "SELECT pg_catalog.to_regprocedure('pk_keys.pk_usage_record(uuid,text,text,integer,integer,inet,text,timestamptz)')" +
  '       IS NOT NULL AS has_record';

// The key of a request: Bearer token first, then x-api-key; null when absent.
function extractKey(headers) {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const k = headers['x-api-key'];
  return typeof k === 'string' && k.length > 0 ? k : null;
}

// X-RateLimit-* (and Retry-After when refused) from one pk_authenticate row.
function rateLimitHeaders(row, now = Date.now()) {
  const h = {};
  if (row.rate_limit !== null) h['X-RateLimit-Limit'] = String(row.rate_limit);
  if (row.rate_limit_remaining !== null) h['X-RateLimit-Remaining'] = String(row.rate_limit_remaining);
  if (row.rate_limit_reset !== null) {
    const reset = new Date(row.rate_limit_reset).getTime();
    h['X-RateLimit-Reset'] = String(Math.ceil(reset / 1000));
    if (row.code === 'RATE_LIMITED') h['Retry-After'] = String(Math.max(1, Math.ceil((reset - now) / 1000)));
  }
  return h;
}

async function pkAuth(app, opts) {
  const pool = opts.pool;
  const requiredScopes = opts.requiredScopes || [];
  const recordUsage = opts.recordUsage !== false;
  const skip = opts.skip || (() => false);
  const { rows } = await pool.query(RECORD_FN_SQL);
  const hasRequest = (await pool.query(HAS_REQUEST_SQL)).rows[0].has_request;
  const usageSql = rows[0].has_record
    ? 'SELECT pk_keys.pk_usage_record($1, $2, $3, $4, $5, $6::inet, $7)'
    : 'SELECT 1 FROM pk_keys.pk_usage_create($1, $2, $3, $4, $5, $6::inet, $7)';
  app.decorate('pkUsageFunction', rows[0].has_record ? 'pk_usage_record' : 'pk_usage_create');
  app.decorateRequest('apiKey', null);

  app.addHook('onRequest', async (request, reply) => {
    if (skip(request)) return;
    request.pkStart = process.hrtime.bigint();
    const key = extractKey(request.headers);
    if (key === null) {
      reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'MISSING_KEY' });
      return reply;
    }
    const cost = opts.cost ? opts.cost(request) : 1;
    const config = request.routeOptions && request.routeOptions.config;
    const scopes = (config && config.pkScopes) || requiredScopes;
    const res = hasRequest
      ? await pool.query(AUTH_REQUEST_SQL, [key, scopes, cost, request.ip || null])
      : await pool.query(AUTH_SQL, [key, scopes, cost]);
    const row = res.rows[0];
    reply.headers(rateLimitHeaders(row));
    if (!row.valid) {
      const status = CODE_STATUS[row.code] || 401;
      if (status === 401) reply.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      reply.code(status).send({ error: row.code });
      return reply;
    }
    // bigint arrives as a string from node-pg; credits fit a double exactly up to 2^53.
    const remaining = row.remaining === null ? null : Number(row.remaining);
    request.apiKey = { id: row.key_id, organizationId: row.organization_id, remaining };
  });

  // After the response: a failed write is logged, never turned into an error
  // for a client that already has its answer.
  app.addHook('onResponse', async (request, reply) => {
    if (!recordUsage || !request.apiKey) return;
    const ms = Number((process.hrtime.bigint() - request.pkStart) / 1000000n);
    // Route patterns, not raw URLs: bounded (endpoint <= 2048 bytes: 512 characters of at most 4 bytes) and
    // aggregated per route; user_agent is cut to pk_keys' 1024-byte bound.
    const path = request.routeOptions && request.routeOptions.url ? request.routeOptions.url : request.url.slice(0, 512);
    const ua = request.headers['user-agent'] ? request.headers['user-agent'].slice(0, 256) : null;  // <= 1024 bytes
    try {
      await pool.query(usageSql, [request.apiKey.id, path, request.method, reply.statusCode, ms,
        request.ip || null, ua]);
    } catch (err) {
      request.log.error({ err }, 'pk_keys usage record failed');
    }
  });
}

module.exports = fp(pkAuth, { name: 'pk-auth' });
module.exports.CODE_STATUS = CODE_STATUS;
module.exports.extractKey = extractKey;
module.exports.rateLimitHeaders = rateLimitHeaders;
