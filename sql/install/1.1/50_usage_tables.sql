-- Usage store, 1.1: the key sets are sharded like the rollups, so that no
-- two concurrently running transactions ever write the same aggregate row
-- (see src/usage_aggregate.h and docs/usage-store.md).
--
--   usage_rollup      (organization_id, day, endpoint, shard): unchanged;
--                     shard is now the writer's proc number + 1 (unique among
--                     live backends), 0 for rows folded by maintenance.
--   usage_day_keys    (organization_id, day, api_key_id, shard)
--   usage_month_keys  (organization_id, month, api_key_id, shard)
--                     a key appears once per shard that saw it (keys x
--                     active shards), folded into shard 0 for past days and
--                     months by maintenance.
--   usage_day_unique, usage_month_unique (1.0's tables, new meaning): the
--                     number of a day's / month's shard-0 key rows, written by
--                     maintenance only (compaction, rebuild, retention,
--                     purge), never by writers: concurrent first uses of keys
--                     fought over these rows in 1.0. unique_keys = this count
--                     + the distinct keys of the other shards not in shard 0.
--                     (After the upgrade every 1.0 key row is in shard 0 and
--                     the 1.0 counters count exactly those rows.)

ALTER TABLE pk_keys.usage_day_keys
    ADD COLUMN shard smallint NOT NULL DEFAULT 0,
    DROP CONSTRAINT usage_day_keys_pkey,
    ADD CONSTRAINT usage_day_keys_pkey PRIMARY KEY (organization_id, day, api_key_id, shard);
ALTER TABLE pk_keys.usage_day_keys ALTER COLUMN shard DROP DEFAULT;

ALTER TABLE pk_keys.usage_month_keys
    ADD COLUMN shard smallint NOT NULL DEFAULT 0,
    DROP CONSTRAINT usage_month_keys_pkey,
    ADD CONSTRAINT usage_month_keys_pkey PRIMARY KEY (organization_id, month, api_key_id, shard);
ALTER TABLE pk_keys.usage_month_keys ALTER COLUMN shard DROP DEFAULT;

-- What maintenance still has to fold (today's rows, late arrivals).
CREATE INDEX usage_day_keys_sharded_idx ON pk_keys.usage_day_keys (day)
    WHERE shard OPERATOR(pg_catalog.<>) 0;
CREATE INDEX usage_month_keys_sharded_idx ON pk_keys.usage_month_keys (month)
    WHERE shard OPERATOR(pg_catalog.<>) 0;

DROP FUNCTION pk_keys.pk_usage_note_key(uuid, date, uuid);
