-- Descriptions of every table, view, non-obvious column and function, so
-- that \dx+, \dt+, \d+ and \df+ explain pk_keys. Runs last (after every
-- other part), for a fresh install and an upgrade alike. Function comments
-- are applied by name to every overload, so a signature that gains an
-- argument keeps its description. Internal helpers say so first: they are
-- no part of the API, EXECUTE on them belongs to the extension owner only
-- (docs/reference.md lists the API; sql/comments.sql checks that nothing
-- is left without a description).

COMMENT ON EXTENSION pk_keys IS
    'API keys, authentication, rate limits and usage inside PostgreSQL (see docs/reference.md)';
COMMENT ON SCHEMA pk_keys IS 'pk_keys: API keys, authentication, rate limits and usage';

-- Tables, views and columns.
COMMENT ON TABLE pk_keys.organizations IS 'Tenants that own API keys; one row per organization';
COMMENT ON COLUMN pk_keys.organizations.slug IS 'URL-safe unique name: ^[a-z0-9]+(-[a-z0-9]+)*$, at most 63 characters; derived from name when not given';
COMMENT ON COLUMN pk_keys.organizations.email IS 'Contact email, stored trimmed and lower-case; unique case-insensitively';
COMMENT ON COLUMN pk_keys.organizations.plan IS 'free, starter, pro or enterprise; sets the default rate_limit_per_minute (60, 600, 3000, 10000)';
COMMENT ON COLUMN pk_keys.organizations.is_active IS 'false: every key of the organization authenticates as DISABLED';
COMMENT ON COLUMN pk_keys.organizations.rate_limit_per_minute IS 'Per-key requests per minute for keys without their own limit (each key has its own window)';
COMMENT ON COLUMN pk_keys.organizations.allowed_ips IS 'Client IP allowlist (CIDR) for keys without their own list; NULL = any address (FORBIDDEN otherwise)';

COMMENT ON TABLE pk_keys.api_keys IS 'API keys: only the SHA-256 of a key is stored, never the key itself';
COMMENT ON COLUMN pk_keys.api_keys.key_prefix IS 'pk_live_ or pk_test_';
COMMENT ON COLUMN pk_keys.api_keys.key_hash IS 'Lower-case hex SHA-256 of the full key (UTF-8 bytes); unique; what pk_authenticate looks up';
COMMENT ON COLUMN pk_keys.api_keys.key_hint IS 'Last 4 characters of the full key, to tell keys apart in a UI';
COMMENT ON COLUMN pk_keys.api_keys.scopes IS 'Scopes granted; pk_authenticate''s required_scopes must be a subset (x.* grants x.anything in permission queries)';
COMMENT ON COLUMN pk_keys.api_keys.is_active IS 'false: DISABLED (revocation is separate and does not touch it)';
COMMENT ON COLUMN pk_keys.api_keys.expires_at IS 'EXPIRED from this instant on (expires_at <= now()); NULL = never';
COMMENT ON COLUMN pk_keys.api_keys.last_used_at IS 'Last VALID request; with preload written by the flusher every pk_keys.flush_interval';
COMMENT ON COLUMN pk_keys.api_keys.request_count IS 'VALID requests so far; with preload written by the flusher every pk_keys.flush_interval';
COMMENT ON COLUMN pk_keys.api_keys.rate_limit_per_minute IS 'Requests per minute for this key; NULL = the organization''s number';
COMMENT ON COLUMN pk_keys.api_keys.remaining IS 'Usage credits left, spent durably by VALID calls; NULL = unlimited';
COMMENT ON COLUMN pk_keys.api_keys.created_by IS 'Caller-supplied actor id (not a database role)';
COMMENT ON COLUMN pk_keys.api_keys.revoked_at IS 'Set once by pk_key_revoke: REVOKED from then on';
COMMENT ON COLUMN pk_keys.api_keys.revoked_by IS 'Caller-supplied actor id of the revocation';
COMMENT ON COLUMN pk_keys.api_keys.revoked_reason IS 'Why it was revoked (leaked: <source> for pk_key_report_leak)';
COMMENT ON COLUMN pk_keys.api_keys.refill_amount IS 'Credits restored at every refill instant; NULL = no refill (then refill_interval is NULL too)';
COMMENT ON COLUMN pk_keys.api_keys.refill_interval IS 'day (00:00 UTC daily) or month (00:00 UTC of refill_day); NULL = no refill';
COMMENT ON COLUMN pk_keys.api_keys.refill_day IS 'Day of the month (1-31) of a monthly refill; past the month''s end means its last day';
COMMENT ON COLUMN pk_keys.api_keys.refill_mode IS 'replace: remaining := refill_amount; add: += refill_amount per instant passed';
COMMENT ON COLUMN pk_keys.api_keys.last_refill_at IS 'Latest refill instant applied (refills are applied lazily, exactly once)';
COMMENT ON COLUMN pk_keys.api_keys.rotated_from IS 'The key this one replaced (pk_key_rotate); both spend one balance during the grace period';
COMMENT ON COLUMN pk_keys.api_keys.credits_baseline IS 'Balance at creation or the last raise (refill, add_credits): credits.low fires below 10 % of it';
COMMENT ON COLUMN pk_keys.api_keys.allowed_ips IS 'Client IP allowlist (CIDR); replaces the organization''s when set; NULL = the organization''s';

COMMENT ON TABLE pk_keys.rate_limit_tracking IS 'Rate-limit window counters per (key, window size, window start); enforcement without preload, a mirror of shared memory with it';
COMMENT ON COLUMN pk_keys.rate_limit_tracking.window_seconds IS 'Window size in seconds (60 for pk_authenticate''s per-minute limit)';
COMMENT ON COLUMN pk_keys.rate_limit_tracking.window_start IS 'Start of the fixed window the count belongs to (sliding window = this one + the weighted previous one)';

COMMENT ON TABLE pk_keys.api_key_usage IS 'Raw usage log, one row per recorded request; partitioned by UTC month (docs/usage-store.md); aggregates kept in the same transaction';
COMMENT ON COLUMN pk_keys.api_key_usage.organization_id IS 'The key''s organization when the row was written (kept when the key is deleted)';
COMMENT ON COLUMN pk_keys.api_key_usage.response_time_ms IS 'NULL = not measured (ignored by averages)';
COMMENT ON TABLE pk_keys.api_key_usage_months IS 'Internal: the single partition of api_key_usage, partitioned by UTC month (api_key_usage_pYYYYMM, made by pk_usage_maintain)';
COMMENT ON TABLE pk_keys.api_key_usage_default IS 'Internal: DEFAULT partition for months without their own partition yet; pk_usage_maintain moves them out';
COMMENT ON TABLE pk_keys.usage_rollup IS 'Internal: per (organization, UTC day, endpoint, shard) counters behind summaries and daily stats';
COMMENT ON COLUMN pk_keys.usage_rollup.shard IS 'backend pid % 8 (0 for bulk statements and folded past days): keeps sessions off one row lock; readers sum shards';
COMMENT ON TABLE pk_keys.usage_day_keys IS 'Internal: distinct keys seen per organization and UTC day';
COMMENT ON TABLE pk_keys.usage_month_keys IS 'Internal: distinct keys seen per organization and UTC month';
COMMENT ON TABLE pk_keys.usage_day_unique IS 'Internal: count of usage_day_keys per organization and day (unique_keys of daily stats)';
COMMENT ON TABLE pk_keys.usage_month_unique IS 'Internal: count of usage_month_keys per organization and month (unique_keys of summaries)';

COMMENT ON TABLE pk_keys.limits IS 'Named limits: a key''s own (api_key_id set) or an organization pool shared by all its keys (api_key_id NULL)';
COMMENT ON COLUMN pk_keys.limits.lim IS 'Requests (cost units) admitted per window';
COMMENT ON COLUMN pk_keys.limits.enforce IS 'false: shadow mode, counted and reported in limits, never refused';
COMMENT ON TABLE pk_keys.audit_log IS 'Append-only audit of every mutating call, written in its transaction; never a key or key hash';
COMMENT ON COLUMN pk_keys.audit_log.actor IS 'The created_by/revoked_by/rotated_by argument of the call, when given';
COMMENT ON COLUMN pk_keys.audit_log.db_role IS 'session_user of the call';
COMMENT ON COLUMN pk_keys.audit_log.changes IS 'Old and new values of the changed fields';
COMMENT ON TABLE pk_keys.events IS 'Events for applications (credits.low, key.revoked, ...); each insert also sends NOTIFY pk_keys_events on commit';
COMMENT ON TABLE pk_keys.maintenance_log IS 'One row per pk_maintenance_run: what it did (the run log pg_cron cannot keep)';
COMMENT ON COLUMN pk_keys.maintenance_log.actions IS 'One line per action, the last one a summary';
COMMENT ON VIEW pk_keys.pk_stats IS 'Monitoring of the shared-memory paths, one row, cluster-wide since server start; NULL counters without preload';
COMMENT ON COLUMN pk_keys.pk_stats.shared_memory IS 'true when the library is in shared_preload_libraries; else every other column is NULL';
COMMENT ON COLUMN pk_keys.pk_stats.windows_in_use IS 'Rate-limit windows held in shared memory now';
COMMENT ON COLUMN pk_keys.pk_stats.windows_capacity IS 'pk_keys.max_tracked_windows';
COMMENT ON COLUMN pk_keys.pk_stats.window_evictions IS 'Windows evicted (untouched 10 minutes, nothing pending) to make room';
COMMENT ON COLUMN pk_keys.pk_stats.table_fallbacks IS 'Calls counted in the tables because the window table was full (raise max_tracked_windows if it grows)';
COMMENT ON COLUMN pk_keys.pk_stats.queued_usage_rows IS 'Usage rows waiting in shared memory for the flusher';
COMMENT ON COLUMN pk_keys.pk_stats.flushes IS 'Flusher batches that wrote something';
COMMENT ON COLUMN pk_keys.pk_stats.flushed_rows IS 'Keys and windows those batches wrote';
COMMENT ON COLUMN pk_keys.pk_stats.last_flush_duration_ms IS 'Duration of the last successful batch';
COMMENT ON COLUMN pk_keys.pk_stats.flush_errors IS 'Batches that failed (error in the server log; counters of that batch dropped)';
COMMENT ON COLUMN pk_keys.pk_stats.stats_since IS 'When the counters started (server start)';

-- Tables that other 1.1 parts add (commented when present).
DO $tables$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.name, c.description FROM (VALUES
            ('verification_counts', 'Internal: pk_authenticate outcomes per (organization, key, code, minute) with credits spent; read by pk_verification_stats')
        ) AS c(name, description)
        WHERE pg_catalog.to_regclass('pk_keys.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.name)) IS NOT NULL
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON TABLE pk_keys.%I IS %L', t.name, t.description);
    END LOOP;
END $tables$;

-- Functions, by name (every overload).
DO $comments$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args, c.description
        FROM pg_catalog.pg_proc p
        JOIN (VALUES
-- Pure functions (PUBLIC).
('pk_generate_key', 'API (PUBLIC): a new key pk_<environment>_<43 base64url characters> with its hash, hint and prefix; nothing stored'),
('pk_validate_key_format', 'API (PUBLIC): whether a string has the key format (prefix, 51 characters, base64url, canonical last character)'),
('pk_hash_key', 'API (PUBLIC): lower-case hex SHA-256 of the key''s UTF-8 bytes, as stored in api_keys.key_hash'),
('pk_verify_key', 'API (PUBLIC): constant-time check of a key against a hash; false (never an error) for anything malformed'),
('pk_scopes_satisfy', 'API (PUBLIC): whether scopes satisfy a permission query (AND, OR, parentheses, x.* wildcards); malformed query -> 22023'),
('current_key_id', 'API (PUBLIC): the key of this transaction''s last VALID pk_authenticate(_request), else NULL; for row-level security'),
('current_organization_id', 'API (PUBLIC): the organization of this transaction''s last VALID pk_authenticate(_request), else NULL; for row-level security'),
('current_scopes', 'API (PUBLIC): the scopes of this transaction''s last VALID pk_authenticate(_request), else NULL; for row-level security'),
-- The per-request path (gateway role).
('pk_authenticate', 'API (gateway): one call per request: validity, scopes, rate limit and credits; returns a code, never raises for a bad key'),
('pk_authenticate_request', 'API (gateway): pk_authenticate plus client IP allowlist, named limits and pools (all or nothing) and permission queries'),
('pk_rate_limit_check', 'API (gateway): sliding-window check of any (key, window size); consumes cost only when allowed'),
('pk_usage_create', 'API (gateway): records one request''s usage row durably and returns it; unknown key -> P0002'),
('pk_usage_record', 'API (gateway): records one request''s usage; queued in shared memory and written in batches when preloaded'),
-- Organizations and keys (admin role).
('pk_org_create', 'API (admin): creates an organization; slug derived from the name (made unique) unless given'),
('pk_org_update', 'API (admin): applies a jsonb patch (name, email, plan, slug, is_active, rate_limit_per_minute, metadata, allowed_ips)'),
('pk_org_get_by_id', 'API (admin): the organization with this id, or no row'),
('pk_org_get_by_slug', 'API (admin): the organization with this slug, or no row'),
('pk_org_get_by_email', 'API (admin): the organization with this email (case-insensitive), or no row'),
('pk_org_get_all', 'API (admin): a page of organizations in a stable order (created_at, id)'),
('pk_key_create', 'API (admin): creates a key; the only time its full key is returned'),
('pk_key_get_by_id', 'API (admin): the key with this id (balance as of now), or no row'),
('pk_key_get_by_hash', 'API (admin): the key with this SHA-256 hex (either case), or no row; not 64 hex digits -> 22023'),
('pk_key_get_by_organization', 'API (admin): the organization''s keys, oldest first'),
('pk_key_update', 'API (admin): applies a jsonb patch to a key (name, scopes, is_active, expires_at, limits, credits, metadata, allowlist, refill)'),
('pk_key_add_credits', 'API (admin): adds (or with a negative delta takes) credits; returns the balance; unlimited key -> 55000, below 0 -> 22023'),
('pk_key_revoke', 'API (admin): revokes a key; true if this call revoked it, false if it already was'),
('pk_key_rotate', 'API (admin): issues a successor key (full key returned once); the old one expires after the grace period, one shared balance'),
('pk_key_import', 'API (admin): imports a key made elsewhere by its SHA-256 hex, so it authenticates without being reissued'),
('pk_key_import_table', 'API (admin): imports every row of a staging table of key hashes in one statement; returns how many'),
('pk_key_report_leak', 'API (leak reporter): revokes a leaked key found by a scanner and raises key.leaked; unknown key -> no row'),
('pk_key_update_last_used', 'API (admin): sets last_used_at to now(); unknown id -> P0002'),
('pk_key_increment_request_count', 'API (admin): request_count + 1, exact under concurrency; unknown id -> P0002'),
('pk_limit_set', 'API (admin): creates or replaces a named limit of a key, or an organization pool (api_key_id NULL)'),
('pk_limit_delete', 'API (admin): deletes a named limit or pool; true if there was one'),
('pk_audit_get', 'API (admin): the organization''s audit entries in [start_at, end_at), oldest first'),
-- Usage readers (admin or reporting role).
('pk_usage_get_by_key', 'API (reporting): a key''s raw usage rows in [start_date, end_date), oldest first'),
('pk_usage_get_by_organization', 'API (reporting): an organization''s raw usage rows in [start_date, end_date), oldest first'),
('pk_usage_get_summary', 'API (reporting): jsonb summary of the UTC month containing month, from the rollups'),
('pk_usage_get_daily_stats', 'API (reporting): one row per UTC day of [start_date, end_date], zeros included, from the rollups'),
('pk_verification_stats', 'API (reporting): pk_authenticate outcomes per bucket (minute, hour, day) and code, with credits spent'),
-- Maintenance and operations (maintenance role).
('pk_maintenance_run', 'API (maintenance): the daily job: pk_usage_maintain, optionally pk_key_delete_expired; one line per action, logged in maintenance_log'),
('pk_schedule_maintenance', 'API (maintenance): registers pk_maintenance_run with pg_cron (by job name); 55000 with a hint without pg_cron'),
('pk_usage_maintain', 'API (maintenance): creates partitions ahead, applies retention, folds rollups; one line per action'),
('pk_usage_create_partition', 'API (maintenance): creates the partition of one UTC month (moving its rows out of DEFAULT); returns its name or NULL'),
('pk_usage_compact_rollups', 'API (maintenance): folds rollup shards of days before a date into shard 0; returns rows folded'),
('pk_usage_rebuild_rollups', 'API (maintenance): recomputes every aggregate of a range of months from the raw rows (after a bad restore)'),
('pk_usage_purge_organization', 'API (maintenance): erases an organization''s raw usage and aggregates; returns raw rows deleted'),
('pk_key_delete_expired', 'API (maintenance): deletes keys with expires_at <= now() (usage rows stay); returns how many'),
('pk_flush', 'API (maintenance): writes this database''s pending shared-memory counters now, in the caller''s transaction'),
('pk_shared_memory_enabled', 'API (monitoring): whether this backend counts in shared memory (library preloaded)'),
('pk_stats_read', 'API (monitoring): the counters behind the view pk_keys.pk_stats (grant both to a monitoring role)'),
('pk_events_dropped', 'API (monitoring): events that could be neither written nor queued (standby, read-only, full queue); shared count when preloaded'),
-- Internal helpers: not part of the API, EXECUTE for the owner only.
('pk_plan_rate_limit', 'Internal: default rate_limit_per_minute of a plan'),
('organizations_default_rate_limit', 'Internal (trigger): fills rate_limit_per_minute from the plan when an INSERT leaves it NULL'),
('pk_org_slugify', 'Internal: derives a slug from a name'),
('pk_org_slug_candidate', 'Internal: the n-th slug candidate (base, base-2, ...) within 63 characters'),
('pk_org_normalize_email', 'Internal: trims and lower-cases an email; 22004/22023 when invalid'),
('pk_org_check_plan', 'Internal: raises unless plan is one of the four'),
('pk_org_check_slug', 'Internal: raises unless an explicit slug is well formed'),
('pk_org_slug_taken', 'Internal: whether another organization has this slug'),
('pk_org_free_slug', 'Internal: the first free slug derived from a base, in O(log n) probes'),
('pk_org_check_change', 'Internal: validates one field of a pk_org_update patch'),
('pk_org_json_rate_limit', 'Internal: reads a JSON number as a non-negative rate limit'),
('pk_key_create_row', 'Internal: validates pk_key_create''s arguments, generates the key and inserts the row'),
('pk_key_view', 'Internal: a key row as the API reports it (refills due applied, shared rotation balance)'),
('pk_key_lock_balance', 'Internal: locks the row that holds a key''s balance'),
('pk_key_change_value', 'Internal: reads one field of a pk_key_update patch as its column type'),
('pk_key_check_refill', 'Internal: validates a set of refill settings'),
('pk_key_check_import', 'Internal: validates an imported key''s hash, prefix, hint and environment'),
('pk_key_check_import_org', 'Internal: raises unless the importing organization exists and is active'),
('pk_refill_remaining', 'Internal: the balance at an instant under a key''s refill settings'),
('pk_refill_last', 'Internal: last_refill_at at an instant under a key''s refill settings'),
('pk_json_integer', 'Internal: reads a JSON number as an integer within bounds'),
('pk_json_cidrs', 'Internal: reads a JSON allowlist as cidr[]'),
('pk_check_name', 'Internal: raises when a name is longer than 200 characters'),
('pk_check_scopes', 'Internal: raises unless scopes are within the bounds'),
('pk_check_metadata', 'Internal: raises unless metadata is a JSON object of at most 64 kB'),
('pk_limit_window_seconds', 'Internal: a window interval in whole seconds, 1 second to 366 days'),
('pk_usage_check_date', 'Internal: raises unless a date argument is finite'),
('pk_usage_note_key', 'Internal: counts a key in the per-day and per-month key sets once'),
('pk_usage_month_bounds', 'Internal: the bounds of the UTC month containing a date'),
('api_key_usage_aggregate', 'Internal (trigger): aggregates rows inserted into api_key_usage, once per statement'),
('pk_event_emit', 'Internal: writes one event row and its NOTIFY (nothing on a standby or read-only transaction)'),
('pk_audit_changes', 'Internal: the changed fields between two row images, never a key hash'),
('pk_audit_write', 'Internal: writes one audit entry; every mutating function calls it'),
('api_keys_credits_baseline', 'Internal (trigger): sets credits_baseline (the balance credits.low is measured against) when credits are set or raised'),
('audit_log_append_only', 'Internal (trigger): refuses UPDATE, DELETE and TRUNCATE of audit_log to all but its owner')
        ) AS c(name, description) ON c.name OPERATOR(pg_catalog.=) p.proname
        WHERE p.pronamespace OPERATOR(pg_catalog.=) 'pk_keys'::pg_catalog.regnamespace
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION pk_keys.%I(%s) IS %L', f.proname, f.args, f.description);
    END LOOP;
END $comments$;
