// HTTP contract of both examples (node and python), over real HTTP on
// loopback: every pk_keys code → its status and headers, revocation refused
// on the next request, usage recorded after the response.
//
// Env: TARGET_URL (the running example), TARGET_NAME (for messages);
// PGHOST/PGPORT/PGUSER/PGDATABASE reach the database directly (as a
// superuser) to make the keys and to change their state.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Client } = require('pg');

const BASE = process.env.TARGET_URL;
const NAME = process.env.TARGET_NAME || BASE;
const db = new Client();
let org;
const keys = {};

async function get(path, headers = {}) {
  const res = await fetch(BASE + path, { headers });
  const body = await res.json();
  return { status: res.status, headers: res.headers, body };
}
const bearer = (k) => ({ Authorization: `Bearer ${k}` });

// Creates a key; returns { id, full_key }.
async function makeKey(name, args = '') {
  const r = await db.query(`SELECT id, full_key FROM pk_keys.pk_key_create($1, $2${args})`, [org, name]);
  return r.rows[0];
}

test.before(async () => {
  await db.connect();
  const tag = `${NAME}-${process.pid}-${Date.now()}`.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  org = (await db.query("SELECT id FROM pk_keys.pk_org_create($1, $2, 'pro')", [`Example ${tag}`, `${tag}@example.test`])).rows[0].id;
  keys.valid = await makeKey('valid', ", scopes => '{read}'");
  keys.admin = await makeKey('admin', ", scopes => '{read,admin}'");
  keys.revoked = await makeKey('revoked');
  await db.query("SELECT pk_keys.pk_key_revoke($1, 'test', NULL)", [keys.revoked.id]);
  keys.expired = await makeKey('expired');
  await db.query("UPDATE pk_keys.api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [keys.expired.id]);
  keys.disabled = await makeKey('disabled');
  await db.query('UPDATE pk_keys.api_keys SET is_active = false WHERE id = $1', [keys.disabled.id]);
  keys.limited = await makeKey('limited', ', rate_limit_per_minute => 2');
  keys.credits = await makeKey('credits', ', remaining => 1');
  keys.revokeLater = await makeKey('revoke-later');
  keys.elsewhere = await makeKey('elsewhere');
  keys.loopback = await makeKey('loopback');
  await db.query("UPDATE pk_keys.api_keys SET allowed_ips = '{10.0.0.0/8}' WHERE id = $1", [keys.elsewhere.id]);
  await db.query("UPDATE pk_keys.api_keys SET allowed_ips = '{127.0.0.0/8,::1/128}' WHERE id = $1", [keys.loopback.id]);
  keys.unknown = (await db.query("SELECT full_key FROM pk_keys.pk_generate_key('live')")).rows[0];
});

test.after(async () => { await db.end(); });

test(`${NAME}: VALID with Bearer → 200 and X-RateLimit-* headers`, async () => {
  const r = await get('/v1/hello', bearer(keys.valid.full_key));
  assert.equal(r.status, 200);
  assert.equal(r.body.key_id, keys.valid.id);
  assert.equal(r.body.organization_id, org);
  assert.equal(r.headers.get('x-ratelimit-limit'), '3000');           // the pro plan's default
  assert.equal(r.headers.get('x-ratelimit-remaining'), '2999');
  assert.match(r.headers.get('x-ratelimit-reset'), /^\d{10}$/);
  assert.equal(r.headers.get('retry-after'), null);
});

test(`${NAME}: VALID with x-api-key → 200`, async () => {
  const r = await get('/v1/hello', { 'x-api-key': keys.valid.full_key });
  assert.equal(r.status, 200);
  assert.equal(r.body.key_id, keys.valid.id);
});

test(`${NAME}: no key → 401 MISSING_KEY with WWW-Authenticate`, async () => {
  const r = await get('/v1/hello');
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'MISSING_KEY');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer');
});

for (const [what, key, code] of [
  ['garbage', () => 'not-a-key', 'MALFORMED'],
  ['a well-formed key nobody issued', () => keys.unknown.full_key, 'NOT_FOUND'],
  ['a revoked key', () => keys.revoked.full_key, 'REVOKED'],
  ['an expired key', () => keys.expired.full_key, 'EXPIRED'],
]) {
  test(`${NAME}: ${what} → 401 ${code}`, async () => {
    const r = await get('/v1/hello', bearer(key()));
    assert.equal(r.status, 401);
    assert.equal(r.body.error, code);
    assert.match(r.headers.get('www-authenticate'), /invalid_token/);
    assert.equal(r.headers.get('retry-after'), null);
  });
}

test(`${NAME}: an inactive key → 403 DISABLED`, async () => {
  const r = await get('/v1/hello', bearer(keys.disabled.full_key));
  assert.equal(r.status, 403);
  assert.equal(r.body.error, 'DISABLED');
});

test(`${NAME}: a key allowed only from 10.0.0.0/8, called from loopback → 403 FORBIDDEN`, async () => {
  const r = await get('/v1/hello', bearer(keys.elsewhere.full_key));
  assert.equal(r.status, 403);
  assert.equal(r.body.error, 'FORBIDDEN');
  const ok = await get('/v1/hello', bearer(keys.loopback.full_key));
  assert.equal(ok.status, 200, 'a key allowed from 127.0.0.0/8 passes');
});

test(`${NAME}: a route needing a scope the key lacks → 403 INSUFFICIENT_SCOPE; with it → 200`, async () => {
  const r = await get('/v1/admin', bearer(keys.valid.full_key));
  assert.equal(r.status, 403);
  assert.equal(r.body.error, 'INSUFFICIENT_SCOPE');
  const ok = await get('/v1/admin', bearer(keys.admin.full_key));
  assert.equal(ok.status, 200);
  assert.equal(ok.body.admin, true);
});

test(`${NAME}: the third request at 2/minute → 429 with Retry-After and X-RateLimit-*`, async () => {
  for (let i = 0; i < 2; i++) {
    const r = await get('/v1/hello', bearer(keys.limited.full_key));
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-ratelimit-remaining'), String(1 - i));
  }
  const r = await get('/v1/hello', bearer(keys.limited.full_key));
  assert.equal(r.status, 429);
  assert.equal(r.body.error, 'RATE_LIMITED');
  assert.equal(r.headers.get('x-ratelimit-limit'), '2');
  assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
  const retry = Number(r.headers.get('retry-after'));
  // Sliding window: the previous minute's requests decay over the next one,
  // so the next slot may be up to two minutes away.
  assert.ok(retry >= 1 && retry <= 120, `Retry-After ${retry} within two minutes`);
  const reset = Number(r.headers.get('x-ratelimit-reset'));
  assert.ok(Math.abs(reset - (Date.now() / 1000 + retry)) <= 2, 'Retry-After agrees with X-RateLimit-Reset');
});

test(`${NAME}: the second request on one credit → 402 USAGE_EXCEEDED`, async () => {
  const first = await get('/v1/hello', bearer(keys.credits.full_key));
  assert.equal(first.status, 200);
  assert.equal(first.body.remaining, 0);
  const r = await get('/v1/hello', bearer(keys.credits.full_key));
  assert.equal(r.status, 402);
  assert.equal(r.body.error, 'USAGE_EXCEEDED');
});

test(`${NAME}: a revocation is refused on the very next request`, async () => {
  assert.equal((await get('/v1/hello', bearer(keys.revokeLater.full_key))).status, 200);
  await db.query("SELECT pk_keys.pk_key_revoke($1, 'compromised', NULL)", [keys.revokeLater.id]);
  const r = await get('/v1/hello', bearer(keys.revokeLater.full_key));
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'REVOKED');
});

test(`${NAME}: usage of VALID requests is recorded after the response`, async () => {
  // Only VALID requests are usage; refusals (429, 402, 403, 401) are not.
  const expected = { [keys.valid.id]: 2, [keys.admin.id]: 1, [keys.credits.id]: 1, [keys.limited.id]: 2,
    [keys.revokeLater.id]: 1, [keys.loopback.id]: 1 };
  let counts = {};
  for (let i = 0; i < 50; i++) {
    await db.query('SELECT pk_keys.pk_flush()');
    const r = await db.query(
      "SELECT api_key_id::text AS id, count(*)::int AS n, pg_catalog.bool_and(status_code = 200) AS ok," +
      "       pg_catalog.min(endpoint) AS endpoint FROM pk_keys.api_key_usage WHERE organization_id = $1 GROUP BY 1", [org]);
    counts = Object.fromEntries(r.rows.map((x) => [x.id, x.n]));
    if (Object.entries(expected).every(([id, n]) => counts[id] === n)) {
      assert.ok(r.rows.every((x) => x.ok));
      assert.deepEqual(r.rows.map((x) => x.endpoint).filter((e) => e !== '/v1/hello' && e !== '/v1/admin'), []);
      break;
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  for (const [id, n] of Object.entries(expected)) assert.equal(counts[id], n, `usage rows of ${id}`);
  assert.equal(counts[keys.revoked.id], undefined);
});
