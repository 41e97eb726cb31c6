# pk_keys.pk_stats with exact counts: a window table of 100 entries (the
# minimum) and 120 keys, so 20 first calls fall back to the tables; a
# trigger that makes the flusher fail, counted as flush errors; and the
# view without preload (shared_memory = false, counters NULL).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('stats');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'pk_keys'\npk_keys.flush_interval = 100\npk_keys.max_tracked_windows = 100");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pk_keys;
	CREATE TABLE keys AS
	SELECT k.id, k.full_key, i
	FROM pk_keys.pk_org_create('Stats', 'stats@example.com', 'pro') o,
	     generate_series(1, 120) i,
	     LATERAL pk_keys.pk_key_create(o.id, 'k' || i) k;});

is($node->safe_psql('postgres',
		q{SELECT shared_memory, windows_in_use, windows_capacity, window_evictions, table_fallbacks,
		         queued_usage_rows, flushes, flush_errors FROM pk_keys.pk_stats}),
	't|0|100|0|0|0|0|0', 'fresh server: nothing counted yet');

is($node->safe_psql('postgres',
		q{SELECT string_agg(DISTINCT code, ',') FROM keys, pk_keys.pk_authenticate(full_key)}),
	'VALID', '120 keys authenticate');
is($node->safe_psql('postgres',
		q{SELECT windows_in_use, table_fallbacks, window_evictions FROM pk_keys.pk_stats}),
	'100|20|0', 'table full at 100 windows: the other 20 calls counted in the tables');

# The flusher may take the 100 counters in one batch or several (it runs
# while the statement above does).
ok($node->poll_query_until('postgres', q{SELECT flushes > 0 AND flushed_rows >= 100 FROM pk_keys.pk_stats}),
	'the flusher\'s batches are counted, with the rows they wrote');
is($node->safe_psql('postgres',
		q{SELECT flushed_rows >= 100, last_flush_at <= clock_timestamp(), last_flush_duration_ms >= 0,
		         last_flush_duration_ms < 60000, flush_errors, last_flush_error_at IS NULL,
		         stats_since <= last_flush_at
		  FROM pk_keys.pk_stats}),
	't|t|t|t|0|t|t', 'flushed rows, last flush time and duration');

# A trigger refuses the flusher's UPDATE: each failed batch is an error.
$node->safe_psql('postgres', q{
	CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
	  $$BEGIN RAISE EXCEPTION 'refused by test trigger'; END$$;
	CREATE TRIGGER refuse BEFORE UPDATE ON pk_keys.api_keys FOR EACH ROW EXECUTE FUNCTION refuse();});
$node->safe_psql('postgres', q{SELECT pk_keys.pk_authenticate(full_key) FROM keys WHERE i <= 5});
ok($node->poll_query_until('postgres',
		q{SELECT flush_errors > 0 AND last_flush_error_at IS NOT NULL FROM pk_keys.pk_stats}),
	'a failing flush is counted as an error with its time');
like(slurp_file($node->logfile), qr/refused by test trigger/, 'and its error is in the server log');
$node->safe_psql('postgres', q{DROP TRIGGER refuse ON pk_keys.api_keys});

# Without preload the view still answers: shared_memory false, the rest NULL.
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$node->restart;
is($node->safe_psql('postgres',
		q{SELECT shared_memory, num_nulls(windows_in_use, windows_capacity, window_evictions, table_fallbacks,
		         queued_usage_rows, flushes, flushed_rows, last_flush_at, last_flush_duration_ms,
		         flush_errors, last_flush_error_at, stats_since) FROM pk_keys.pk_stats}),
	'f|12', 'without preload: shared_memory = false, every counter NULL');

$node->stop;
done_testing();
