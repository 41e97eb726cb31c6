// The example API: a fastify server whose /v1/* routes are authenticated by
// pk_keys (src/pk-auth.js), plus a usage dashboard (/dashboard) that draws an
// organization's daily requests, failures and verification outcomes.
//
// Environment: PGHOST/PGPORT/PGUSER/PGDATABASE (libpq's), PORT (default 3000,
// 0 = any), HOST (default 127.0.0.1), PK_RECORD_USAGE (default 1),
// PK_POOL_SIZE (default 10).
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const Fastify = require('fastify');
const { Pool } = require('pg');
const pkAuth = require('./pk-auth');

const DASHBOARD_HTML = fs.readFileSync(path.join(__dirname, 'dashboard.html'), 'utf8');

// Daily series of the caller's organization; verification outcomes come from
// pk_verification_stats when the database has it (pk_keys 1.1).
const DAILY_SQL =
  'SELECT day::text AS day, total_requests::int AS requests, failed_requests::int AS failures' +
  '  FROM pk_keys.pk_usage_get_daily_stats($1, $2::date, $3::date) ORDER BY day';
const HAS_VERIFICATION_SQL =
  "SELECT pg_catalog.to_regprocedure('pk_keys.pk_verification_stats(uuid,timestamptz,timestamptz,text,uuid)')" +
  '       IS NOT NULL AS has';
const VERIFICATION_SQL =
  "SELECT (bucket AT TIME ZONE 'UTC')::date::text AS day, code, verifications::int AS n" +
  "  FROM pk_keys.pk_verification_stats($1, $2::date::timestamp AT TIME ZONE 'UTC'," +
  "       ($3::date + 1)::timestamp AT TIME ZONE 'UTC', 'day')";

// Builds the app; the caller listens. opts: { pool, recordUsage }.
async function build(opts) {
  const app = Fastify({ logger: false });
  const pool = opts.pool;
  const { rows } = await pool.query(HAS_VERIFICATION_SQL);
  const hasVerification = rows[0].has;

  await app.register(pkAuth, {
    pool,
    recordUsage: opts.recordUsage,
    skip: (req) => req.url === '/dashboard' || req.url.startsWith('/dashboard?') || req.url === '/healthz',
  });

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/v1/hello', async (request) => ({
    hello: 'world',
    key_id: request.apiKey.id,
    organization_id: request.apiKey.organizationId,
    remaining: request.apiKey.remaining,
  }));

  app.get('/v1/admin', { config: { pkScopes: ['admin'] } }, async (request) => ({ admin: true, key_id: request.apiKey.id }));

  // The caller's organization's last `days` UTC days (default 14, at most 90).
  app.get('/v1/stats/daily', async (request) => {
    const days = Math.min(90, Math.max(1, parseInt(request.query.days || '14', 10) || 14));
    const end = new Date();
    const start = new Date(end.getTime() - (days - 1) * 86400000);
    const args = [request.apiKey.organizationId, start.toISOString().slice(0, 10), end.toISOString().slice(0, 10)];
    const daily = (await pool.query(DAILY_SQL, args)).rows;
    const outcomes = {};
    if (hasVerification) {
      for (const r of (await pool.query(VERIFICATION_SQL, args)).rows) {
        (outcomes[r.code] = outcomes[r.code] || {})[r.day] = r.n;
      }
    }
    return { days: daily.map((d) => d.day), requests: daily.map((d) => d.requests),
      failures: daily.map((d) => d.failures),
      verifications: Object.fromEntries(Object.entries(outcomes).sort().map(([code, byDay]) =>
        [code, daily.map((d) => byDay[d.day] || 0)])) };
  });

  // The page draws itself from /v1/stats/daily with the key given in the URL
  // fragment (#key=...), which browsers never send to a server.
  app.get('/dashboard', async (request, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_HTML));

  app.addHook('onClose', async () => pool.end());
  return app;
}

async function main() {
  const pool = new Pool({ max: parseInt(process.env.PK_POOL_SIZE || '10', 10) });
  const app = await build({ pool, recordUsage: process.env.PK_RECORD_USAGE !== '0' });
  const address = await app.listen({ port: parseInt(process.env.PORT || '3000', 10), host: process.env.HOST || '127.0.0.1' });
  console.log(`listening on ${address} (usage via ${app.pkUsageFunction}, recording ${process.env.PK_RECORD_USAGE !== '0' ? 'on' : 'off'})`);
  const stop = () => app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((err) => { console.error(err); process.exit(1); });
}

module.exports = { build };
