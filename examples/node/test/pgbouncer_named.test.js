// Why the examples send unnamed statements: behind pgbouncer in transaction
// pooling mode (Debian 12's 1.18 has no prepared-statement tracking) two
// clients share one server connection, and node-pg's named prepared
// statements collide there. Env: BOUNCER_HOST/BOUNCER_PORT/BOUNCER_DB (a pool
// of ONE server connection, so the collision is deterministic).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Client } = require('pg');

const cfg = () => ({ host: process.env.BOUNCER_HOST, port: Number(process.env.BOUNCER_PORT),
  database: process.env.BOUNCER_DB, user: process.env.PGUSER || 'postgres' });
const AUTH = "SELECT code FROM pk_keys.pk_authenticate($1, '{}', 0)";

test('pgbouncer transaction mode: a named statement prepared by two clients fails with 42P05', async () => {
  const a = new Client(cfg());
  const b = new Client(cfg());
  await a.connect();
  await b.connect();
  try {
    const first = await a.query({ name: 'pk_auth', text: AUTH, values: ['x'] });
    assert.equal(first.rows[0].code, 'MALFORMED');
    await assert.rejects(b.query({ name: 'pk_auth', text: AUTH, values: ['x'] }),
      (err) => err.code === '42P05' && /prepared statement "pk_auth" already exists/.test(err.message));
  } finally {
    await a.end();
    await b.end();
  }
});

test('pgbouncer transaction mode: the same statement unnamed works for both clients', async () => {
  const a = new Client(cfg());
  const b = new Client(cfg());
  await a.connect();
  await b.connect();
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal((await a.query(AUTH, ['x'])).rows[0].code, 'MALFORMED');
      assert.equal((await b.query(AUTH, ['x'])).rows[0].code, 'MALFORMED');
    }
  } finally {
    await a.end();
    await b.end();
  }
});
