-- Usage store, 1.1: the key sets are sharded like the rollups, so that no
-- two concurrently running transactions ever write the same aggregate row
-- (see src/usage_aggregate.h and docs/usage-store.md).
--
--   usage_rollup      (organization_id, day, endpoint, shard): unchanged;
--                     shard is now the writer's proc number + 1 (unique among
--                     live backends), 0 for rows folded by maintenance.
--   usage_day_keys    (organization_id, day, api_key_id, shard)
--   usage_month_keys  (organization_id, month, api_key_id, shard)
--                     a key appears once per shard that saw it; unique_keys
--                     is count(DISTINCT api_key_id) over a day's or a
--                     month's rows (keys x active shards, folded into shard
--                     0 for past days and months).
-- The 1.0 counters usage_day_unique / usage_month_unique are gone: they were
-- the rows that concurrent first uses of keys fought over.

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
-- Out of the extension first: that also takes them off its pg_dump list.
ALTER EXTENSION pk_keys DROP TABLE pk_keys.usage_day_unique;
ALTER EXTENSION pk_keys DROP TABLE pk_keys.usage_month_unique;
DROP TABLE pk_keys.usage_day_unique, pk_keys.usage_month_unique;
