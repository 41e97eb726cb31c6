# pk_keys.pk_stats.queued_usage_rows counts the pk_usage_record rows waiting
# in shared memory, until the flusher has written them to api_key_usage.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('stats_queue');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'pk_keys'\npk_keys.flush_interval = 100");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pk_keys;
	CREATE TABLE k AS SELECT id FROM pk_keys.pk_key_create(
		(SELECT id FROM pk_keys.pk_org_create('Queue', 'queue@example.com', 'pro')));});

is($node->safe_psql('postgres', q{SELECT queued_usage_rows FROM pk_keys.pk_stats}),
	'0', 'nothing queued yet');

# Another session holds api_key_usage locked, so the flusher cannot write
# what it takes from the queue: the rows stay counted until it can.
my $holder = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
	  'BEGIN; LOCK pk_keys.api_key_usage IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;' ],
	'>', \my $out, '2>', \my $err);
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_locks WHERE relation = 'pk_keys.api_key_usage'::regclass AND mode = 'AccessExclusiveLock' AND granted}),
	'the usage table is locked by another session');
$node->safe_psql('postgres',
	q{SELECT pk_keys.pk_usage_record((SELECT id FROM k), '/v1/q/' || g) FROM generate_series(1, 7) g});
is($node->safe_psql('postgres', q{SELECT queued_usage_rows FROM pk_keys.pk_stats}),
	'7', 'seven recorded rows wait in the queue while the table is locked');
$holder->finish;
ok($node->poll_query_until('postgres',
		q{SELECT queued_usage_rows = 0 AND (SELECT count(*) FROM pk_keys.api_key_usage) = 7 FROM pk_keys.pk_stats}),
	'once the lock is gone the flusher writes them: queue empty, all seven in the table');

$node->stop;
done_testing();
