# The shared-memory counters: the background flusher writes request_count,
# last_used_at and window rows at pk_keys.flush_interval, exits when idle,
# and flushes on clean shutdown. A crash loses at most the unflushed
# counters; credits and revocations are transactional and never lost.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('flush');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'pk_keys'\npk_keys.flush_interval = 100\nmax_prepared_transactions = 2");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pk_keys;
	CREATE TABLE keys AS
	SELECT k.id, k.full_key
	FROM pk_keys.pk_org_create('Flush', 'flush@example.com', 'pro') o,
	     pk_keys.pk_key_create(o.id, remaining => 100) k;});

sub auth_n {
	my ($n) = @_;
	$node->safe_psql('postgres',
		"SELECT (pk_keys.pk_authenticate(full_key)).code FROM keys, generate_series(1, $n)");
}
sub counters {
	return $node->safe_psql('postgres',
		q{SELECT request_count || ',' || remaining || ',' || (last_used_at IS NOT NULL)
		  FROM pk_keys.api_keys WHERE id = (SELECT id FROM keys)});
}

auth_n(5);
ok($node->poll_query_until('postgres',
		q{SELECT request_count = 5 FROM pk_keys.api_keys WHERE id = (SELECT id FROM keys)}),
	'flusher writes request_count within the interval');
is(counters(), '5,95,true', 'request_count, credits and last_used_at after the flush');
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pk_keys.rate_limit_tracking WHERE api_key_id = (SELECT id FROM keys)}),
	'window row written');
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pk_keys flusher'}),
	'idle flusher exits');
auth_n(1);
ok($node->poll_query_until('postgres',
		q{SELECT request_count = 6 FROM pk_keys.api_keys WHERE id = (SELECT id FROM keys)}),
	'next request relaunches the flusher');

# A key row locked by another transaction is skipped, not waited for: the
# other keys are written meanwhile, and the locked one once it is free.
$node->safe_psql('postgres', q{
	CREATE TABLE other_key AS SELECT k.id, k.full_key
	FROM pk_keys.pk_org_get_by_slug('flush') o, pk_keys.pk_key_create(o.id) k;
	BEGIN;
	SELECT 1 FROM pk_keys.api_keys WHERE id = (SELECT id FROM other_key) FOR UPDATE;
	PREPARE TRANSACTION 'hold_key_row';});
auth_n(2);
$node->safe_psql('postgres',
	'SELECT (pk_keys.pk_authenticate(full_key)).code FROM other_key, generate_series(1, 2)');
ok($node->poll_query_until('postgres',
		q{SELECT request_count = 8 FROM pk_keys.api_keys WHERE id = (SELECT id FROM keys)}),
	'the unlocked key is flushed while another is locked');
is($node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.backend_type = 'pk_keys flusher' AND NOT l.granted}),
	'0', 'the flusher does not wait for the row lock');
is($node->safe_psql('postgres',
		q{SELECT request_count FROM pk_keys.api_keys WHERE id = (SELECT id FROM other_key)}),
	'0', 'the locked key is not written while locked');
$node->safe_psql('postgres', q{COMMIT PREPARED 'hold_key_row'});
ok($node->poll_query_until('postgres',
		q{SELECT request_count = 2 FROM pk_keys.api_keys WHERE id = (SELECT id FROM other_key)}),
	'the locked key is flushed once free');

# Clean shutdown writes what is pending: the counters, and the rate-limit
# windows (the flusher writes windows only every minute otherwise, so these
# are in shared memory only until the shutdown flush).
$node->append_conf('postgresql.conf', "pk_keys.flush_interval = '1h'");
$node->reload;
usleep(300_000);
auth_n(3);
my $hour_window = q{SELECT allowed FROM keys, pk_keys.pk_rate_limit_check(id, 3, '1 hour')};
is($node->safe_psql('postgres', "$hour_window; $hour_window; $hour_window"), "t\nt\nt",
	'three slots of an hour window spent');
$node->stop('fast');
$node->start;
is(counters(), '11,89,true', 'clean shutdown flushed the pending counters');
is($node->safe_psql('postgres', q{SELECT request_count FROM pk_keys.rate_limit_tracking
		WHERE api_key_id = (SELECT id FROM keys) AND window_seconds = 3600}),
	'3', 'clean shutdown wrote the hour window');
# Known gap (handed on, issue 12): with shared memory a window starts empty
# after a restart although rate_limit_tracking holds its count (README:
# "restarts rate-limit windows"), so the 4th call is admitted; not asserted.
note('after the restart the hour window admits: ' . $node->safe_psql('postgres', $hour_window));

# The README's crash bound: a crash loses at most one flush interval of
# counters. With a 200 ms interval, calls made a second before the crash
# (five intervals) are all on disk.
$node->append_conf('postgresql.conf', "pk_keys.flush_interval = 200");
$node->reload;
auth_n(2);
usleep(1_000_000);
# A crash loses at most the unflushed counters, never credits or a revocation.
$node->safe_psql('postgres', q{SELECT pk_keys.pk_key_revoke(id, 'crash test', NULL) FROM keys});
$node->stop('immediate');
$node->start;
my ($count, $remaining) = split /,/, counters();
is($count, '13', 'after a crash every request counted more than one flush interval earlier is kept');
is($remaining, '87', 'credits spent before the crash are durable');
is($node->safe_psql('postgres',
		q{SELECT code FROM keys, pk_keys.pk_authenticate(full_key)}),
	'REVOKED', 'revocation survives the crash');

$node->stop;
done_testing();
