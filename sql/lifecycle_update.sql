-- pk_key_update, pk_key_add_credits and the 1.1 input bounds of the
-- organization and key functions. Ids and times are never printed.
\set VERBOSITY terse
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
END $$;
CREATE TEMP TABLE o AS SELECT id FROM pk_keys.pk_org_create('Update Org', 'update@example.com');
CREATE TEMP TABLE k AS SELECT id, full_key FROM pk_keys.pk_key_create((SELECT id FROM o), 'first', remaining => 10);
CREATE FUNCTION pg_temp.upd(changes text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.err(format('SELECT pk_keys.pk_key_update(%L, %L)', (SELECT id FROM k), changes))
$$;

--
-- pk_key_update: every field, JSON null for nullable ones, {} changes nothing.
--
SELECT name, scopes, is_active, expires_at > now() AS future, rate_limit_per_minute, remaining,
       metadata, allowed_ips, refill_amount, refill_interval, refill_day, refill_mode
FROM pk_keys.pk_key_update((SELECT id FROM k), jsonb_build_object(
    'name', 'renamed', 'scopes', '["read", "write"]'::jsonb, 'is_active', false,
    'expires_at', (now() + interval '3 days')::text, 'rate_limit_per_minute', 7, 'remaining', 42,
    'metadata', '{"team": "a"}'::jsonb, 'allowed_ips', '["10.0.0.0/8", "2001:db8::/32"]'::jsonb,
    'refill_amount', 50, 'refill_interval', 'month', 'refill_day', 15, 'refill_mode', 'add'));
-- The row is stored as reported; is_active false makes the key DISABLED.
SELECT name, is_active, remaining, refill_day, last_refill_at IS NOT NULL AS schedule_restarted
FROM pk_keys.api_keys WHERE id = (SELECT id FROM k);
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key);
SELECT name, expires_at IS NULL AS no_expiry, rate_limit_per_minute IS NULL AS org_limit, allowed_ips,
       refill_amount, refill_interval, refill_day, remaining, is_active
FROM pk_keys.pk_key_update((SELECT id FROM k), '{"name": null, "expires_at": null,
    "rate_limit_per_minute": null, "allowed_ips": null, "refill_amount": null,
    "refill_interval": null, "refill_day": null, "is_active": true}');
SELECT code, remaining FROM k, pk_keys.pk_authenticate(k.full_key);
-- {} changes nothing and writes nothing (no audit entry either).
SELECT count(*) AS audit_before FROM pk_keys.audit_log WHERE target_id = (SELECT id FROM k) \gset
SELECT name IS NULL AS unchanged, remaining FROM pk_keys.pk_key_update((SELECT id FROM k), '{}');
SELECT count(*) - :audit_before AS new_entries FROM pk_keys.audit_log WHERE target_id = (SELECT id FROM k);
-- The same value again changes nothing either.
SELECT remaining FROM pk_keys.pk_key_update((SELECT id FROM k), '{"remaining": 41}');
SELECT count(*) - :audit_before AS new_entries FROM pk_keys.audit_log WHERE target_id = (SELECT id FROM k);
-- remaining null = unlimited; a refill set on an unlimited key starts it at
-- refill_amount; unlimited while a refill is set is refused.
SELECT remaining IS NULL AS unlimited FROM pk_keys.pk_key_update((SELECT id FROM k), '{"remaining": null}');
SELECT remaining, refill_day FROM pk_keys.pk_key_update((SELECT id FROM k),
    '{"refill_amount": 25, "refill_interval": "day"}');
SELECT pg_temp.upd('{"remaining": null}');
SELECT refill_day FROM pk_keys.pk_key_update((SELECT id FROM k), '{"refill_interval": "month"}');
SELECT refill_day FROM pk_keys.pk_key_update((SELECT id FROM k), '{"refill_interval": "day"}');
-- Errors: 22023 naming the field, 22004 for null on a NOT NULL field,
-- P0002 for an unknown key; nothing changes.
SELECT pg_temp.upd('{"colour": "red"}');
SELECT pg_temp.upd('{"name": 5}');
SELECT pg_temp.upd(format('{"name": "%s"}', repeat('n', 201)));
SELECT pg_temp.upd('{"scopes": "read"}');
SELECT pg_temp.upd('{"scopes": ["read", 5]}');
SELECT pg_temp.upd('{"scopes": [""]}');
SELECT pg_temp.upd(format('{"scopes": ["%s"]}', repeat('s', 129)));
SELECT pg_temp.upd((SELECT jsonb_build_object('scopes', jsonb_agg('s' || g))::text FROM generate_series(1, 257) g));
SELECT pg_temp.upd('{"scopes": null}');
SELECT pg_temp.upd('{"is_active": "yes"}');
SELECT pg_temp.upd('{"is_active": null}');
SELECT pg_temp.upd('{"expires_at": "next tuesday"}');
SELECT pg_temp.upd('{"expires_at": "294277-01-01"}');
SELECT pg_temp.upd('{"expires_at": 5}');
SELECT pg_temp.upd('{"rate_limit_per_minute": -1}');
SELECT pg_temp.upd('{"rate_limit_per_minute": 1.5}');
SELECT pg_temp.upd('{"rate_limit_per_minute": 3000000000}');
SELECT pg_temp.upd('{"remaining": -1}');
SELECT pg_temp.upd('{"remaining": "10"}');
SELECT pg_temp.upd('{"metadata": []}');
SELECT pg_temp.upd('{"metadata": null}');
SELECT pg_temp.upd(format('{"metadata": {"blob": "%s"}}', repeat('m', 65536)));
SELECT pg_temp.upd('{"allowed_ips": ["not an ip"]}');
SELECT pg_temp.upd('{"allowed_ips": "10.0.0.0/8"}');
SELECT pg_temp.upd('{"refill_amount": -5}');
SELECT pg_temp.upd('{"refill_interval": "week"}');
SELECT pg_temp.upd('{"refill_day": 32}');
SELECT pg_temp.upd('{"refill_day": 3}');
SELECT pg_temp.upd('{"refill_interval": null}');
SELECT pg_temp.upd('{"refill_mode": "top-up"}');
SELECT pg_temp.upd('{"refill_mode": null}');
SELECT pg_temp.upd('[1]');
SELECT pg_temp.upd(NULL);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_update('00000000-0000-0000-0000-000000000000', '{}')$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_update(NULL, '{}')$$);
-- A full key pasted as a field name is not echoed.
SELECT pg_temp.upd((SELECT format('{"%s": 1}', full_key) FROM k)) LIKE '%(an API key, not shown)%' AS hidden;
SELECT name IS NULL AS unchanged_name, scopes, remaining, refill_amount FROM pk_keys.api_keys WHERE id = (SELECT id FROM k);

--
-- pk_key_add_credits
--
CREATE TEMP TABLE c AS SELECT id, full_key FROM pk_keys.pk_key_create((SELECT id FROM o), 'credits', remaining => 3);
SELECT pk_keys.pk_key_add_credits((SELECT id FROM c), 7) AS after_add;
SELECT pk_keys.pk_key_add_credits((SELECT id FROM c), -10) AS to_zero;
SELECT code, remaining FROM c, pk_keys.pk_authenticate(c.full_key);
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_add_credits(%L, -1)', (SELECT id FROM c)));
SELECT pk_keys.pk_key_add_credits((SELECT id FROM c), 0) AS unchanged;
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_add_credits(%L, 9223372036854775807)',
    (SELECT id FROM c WHERE pk_keys.pk_key_add_credits(id, 1) = 1)));
SELECT remaining FROM pk_keys.api_keys WHERE id = (SELECT id FROM c);
CREATE TEMP TABLE u AS SELECT id FROM pk_keys.pk_key_create((SELECT id FROM o), 'unlimited');
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_add_credits(%L, 5)', (SELECT id FROM u)));
SELECT pg_temp.err($$SELECT pk_keys.pk_key_add_credits('00000000-0000-0000-0000-000000000000', 5)$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_add_credits(NULL, 5)$$);
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_add_credits(%L, NULL)', (SELECT id FROM c)));

--
-- Bounds on the organization and key arguments (22023 naming the argument).
--
SELECT pg_temp.err(format('SELECT pk_keys.pk_org_create(%L, %L)', repeat('n', 201), 'bounds1@example.com'));
SELECT name = repeat('n', 200) AS name_200_ok FROM pk_keys.pk_org_create(repeat('n', 200), 'bounds2@example.com');
SELECT pg_temp.err(format('SELECT pk_keys.pk_org_update(%L, %L)', (SELECT id FROM o), jsonb_build_object('name', repeat('n', 201))));
SELECT pg_temp.err(format('SELECT pk_keys.pk_org_update(%L, %L)', (SELECT id FROM o),
    jsonb_build_object('metadata', jsonb_build_object('blob', repeat('m', 65536)))));
SELECT pg_keys_ok FROM (SELECT pg_column_size(metadata) > 0 AS pg_keys_ok FROM pk_keys.pk_org_update((SELECT id FROM o),
    jsonb_build_object('metadata', jsonb_build_object('blob', repeat('m', 60000))))) x;
SELECT allowed_ips FROM pk_keys.pk_org_update((SELECT id FROM o), '{"allowed_ips": ["192.168.0.0/16"]}');
SELECT allowed_ips IS NULL AS any_address FROM pk_keys.pk_org_update((SELECT id FROM o), '{"allowed_ips": null}');
SELECT pg_temp.err(format('SELECT pk_keys.pk_org_update(%L, %L)', (SELECT id FROM o), '{"allowed_ips": ["10.0.0.1/8"]}'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_org_update(%L, %L)', (SELECT id FROM o), '{"allowed_ips": 5}'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_create(%L, %L)', (SELECT id FROM o), repeat('n', 201)));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_create(%L, scopes => %L)', (SELECT id FROM o),
    (SELECT array_agg('s' || g) FROM generate_series(1, 257) g)));
SELECT count(*) AS created_256 FROM pk_keys.pk_key_create((SELECT id FROM o), 'many scopes',
    scopes => (SELECT array_agg('s' || g) FROM generate_series(1, 256) g));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_create(%L, scopes => %L)', (SELECT id FROM o), ARRAY['ok', '']));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_create(%L, scopes => %L)', (SELECT id FROM o), ARRAY['ok', repeat('é', 65)]));
SELECT count(*) AS created_128_bytes FROM pk_keys.pk_key_create((SELECT id FROM o), scopes => ARRAY[repeat('é', 64)]);
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_create(%L, scopes => %L)', (SELECT id FROM o), '{read,NULL}'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_create(%L, metadata => %L)', (SELECT id FROM o),
    jsonb_build_object('blob', repeat('m', 65536))));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_create(%L, metadata => %L)', (SELECT id FROM o), '[]'));
SELECT count(*) AS keys FROM pk_keys.api_keys WHERE organization_id = (SELECT id FROM o);
