# pk_usage_record's crash bound: rows queued in shared memory are written by
# the flusher within pk_keys.flush_interval; a SIGKILL of the postmaster
# loses at most what was queued since the last flush, never writes a row
# twice, and leaves aggregates equal to the raw rows.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $interval_ms = 1000;
my $node = PostgreSQL::Test::Cluster->new('record_crash');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'pk_keys'\npk_keys.flush_interval = $interval_ms\nrestart_after_crash = off");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pk_keys;
	CREATE SEQUENCE call_seq;
	CREATE TABLE keys AS SELECT k.id FROM pk_keys.pk_org_create('Crash', 'crash@example.com') o,
	    LATERAL pk_keys.pk_key_create(o.id) k, generate_series(1, 3);});
my $key = $node->safe_psql('postgres', 'SELECT id FROM keys LIMIT 1');

# Background load: 2 clients recording rows numbered by a sequence.
my $dir = PostgreSQL::Test::Utils::tempdir();
open my $fh, '>', "$dir/load.sql" or die;
print $fh q{SELECT pk_keys.pk_usage_record(k.id, '/load', 'GET', 200, 5, NULL, 'load-' || nextval('call_seq'))
FROM (SELECT id FROM keys ORDER BY random() LIMIT 1) k;
};
close $fh;
my ($out, $err) = ('', '');
my $load = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '2', '-T', '30', '-h', $node->host, '-p', $node->port, '-f', "$dir/load.sql", 'postgres' ],
	'>', \$out, '2>', \$err);
sleep 1;

# Batch A, acknowledged, then left more than one interval to be flushed.
my $n = 2000;
$node->safe_psql('postgres',
	"SELECT count(pk_keys.pk_usage_record('$key', '/a', 'GET', 200, g, NULL, 'a-' || g)) FROM generate_series(1, $n) g");
my $t0 = time();
ok($node->poll_query_until('postgres', "SELECT count(*) = $n FROM pk_keys.api_key_usage WHERE endpoint = '/a'"),
	'queued rows reach the table without pk_flush');
my $took = time() - $t0;
cmp_ok($took, '<', 3 * $interval_ms / 1000.0, "within the flush interval (took ${took}s)");

# Batch B, acknowledged, then the postmaster is killed at once: B may be
# lost (it was queued in the last interval), never duplicated.
$node->safe_psql('postgres',
	"SELECT count(pk_keys.pk_usage_record('$key', '/b', 'GET', 500, g, NULL, 'b-' || g)) FROM generate_series(1, $n) g");
$node->kill9;
$load->finish;
# The orphaned backends notice the postmaster is gone and exit.
sleep 2;
$node->start;

my ($a_rows, $a_distinct) = split /\|/, $node->safe_psql('postgres',
	q{SELECT count(*), count(DISTINCT user_agent) FROM pk_keys.api_key_usage WHERE endpoint = '/a'});
is("$a_rows|$a_distinct", "$n|$n", 'every row flushed before the crash is there, once');
my ($b_rows, $b_distinct) = split /\|/, $node->safe_psql('postgres',
	q{SELECT count(*), count(DISTINCT user_agent) FROM pk_keys.api_key_usage WHERE endpoint = '/b'});
is($b_rows, $b_distinct, 'no row of the last interval written twice');
cmp_ok($b_rows, '<=', $n, "rows of the last interval: $b_rows of $n kept, the rest lost with the queue");
my ($load_rows, $load_distinct) = split /\|/, $node->safe_psql('postgres',
	q{SELECT count(*), count(DISTINCT user_agent) FROM pk_keys.api_key_usage WHERE endpoint = '/load'});
cmp_ok($load_rows, '>', 0, "background load rows written ($load_rows)");
is($load_rows, $load_distinct, 'no background row written twice');
diag("after SIGKILL: batch A $a_rows/$n, batch B $b_rows/$n kept, load $load_rows rows");

# Aggregates equal the raw rows.
is($node->safe_psql('postgres', q{
	WITH raw AS (SELECT organization_id o, timezone('UTC', occurred_at)::date d, count(*) n,
	                    count(*) FILTER (WHERE status_code < 400) s, count(DISTINCT api_key_id) u
	             FROM pk_keys.api_key_usage GROUP BY 1, 2)
	SELECT count(*) FROM raw r, pk_keys.pk_usage_get_daily_stats(r.o, r.d, r.d) x
	WHERE (x.total_requests, x.successful_requests, x.unique_keys) IS DISTINCT FROM (r.n, r.s, r.u)}),
	'0', 'daily stats equal GROUP BY over the raw rows after the crash');

# The queue works again after the restart.
$node->safe_psql('postgres', "SELECT pk_keys.pk_usage_record('$key', '/after')");
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pk_keys.api_key_usage WHERE endpoint = '/after'}),
	'recording resumes after the restart');
$node->stop;
done_testing();
