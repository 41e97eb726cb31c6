-- pk_authenticate_request on one key (:req) with a client IP checked against
-- a two-range allowlist and two named limits (the key's own and its
-- organization's pool): compared with auth_hot in the same run.
SELECT * FROM pk_keys.pk_authenticate_request('pk_live_' || lpad(:req::text, 42, '0') || 'A', '{}', 1,
    '10.1.2.3', '{"tokens": 1, "pool": 1}');
