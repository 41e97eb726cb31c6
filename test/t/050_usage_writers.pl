# Eight concurrent usage writers mixing pk_usage_create, pk_usage_record,
# multi-row INSERT ... SELECT and COPY into pk_keys.api_key_usage, in
# multi-statement transactions of 1 to 10,000 rows over the same keys,
# endpoints and days in different orders, with pk_usage_maintain (shard
# folding) running beside them. Must hold: no writer ever fails (no
# deadlock, no serialization failure), and afterwards every daily statistic
# and monthly summary equals a GROUP BY over the raw rows, unique_keys
# included.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $preload = ($ENV{PK_WRITERS_PRELOAD} // '1') eq '1';
my $seconds = $ENV{PK_WRITERS_SECONDS} // 12;
my $node = PostgreSQL::Test::Cluster->new('usage_writers');
$node->init;
$node->append_conf('postgresql.conf',
	($preload ? "shared_preload_libraries = 'pk_keys'\npk_keys.flush_interval = 100\n" : '')
	  . "deadlock_timeout = 100ms\nlog_lock_waits = on\nmax_connections = 40");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pk_keys;
	CREATE TABLE keys (i int PRIMARY KEY, id uuid, org uuid);
	INSERT INTO keys
	SELECT row_number() OVER (ORDER BY o.n, g) - 1, k.id, o.id
	FROM (SELECT n, (pk_keys.pk_org_create('Writers ' || n, 'w' || n || '@example.com')).id
	      FROM generate_series(1, 3) n) o(n, id),
	     generate_series(1, 200) g, LATERAL pk_keys.pk_key_create(o.id, 'k' || g) k;
	SELECT count(*) FROM pk_keys.pk_usage_maintain();
	SELECT pk_keys.pk_usage_create_partition((now() - interval '21 days')::date);});
my $has_record = $node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_proc WHERE proname = 'pk_usage_record'}) eq '1';

use Cwd qw(abs_path);
my $dir = abs_path(PostgreSQL::Test::Utils::tempdir());
chmod 0755, $dir;
# COPY files: 2,000 rows each over every key, in four different key orders,
# spread over today and the two previous UTC days.
my @keys = split /\n/, $node->safe_psql('postgres', q{SELECT id || ',' || org FROM keys ORDER BY i});
my $now = time();
for my $f (1 .. 4) {
	open my $fh, '>', "$dir/copy$f.csv" or die;
	for my $r (1 .. 2000) {
		my $i = $f % 2 ? ($r * 7 * $f) % 600 : 599 - ($r * 11) % 600;
		my @t = gmtime($now - ($r % 20) * 86400 - ($r % 600));
		my $ts = sprintf('%04d-%02d-%02d %02d:%02d:%02d+00', $t[5] + 1900, $t[4] + 1, @t[3, 2, 1, 0]);
		my $rt = $r % 5 ? $r % 300 : '';
		print $fh "$keys[$i],$ts,/e" . ($r % 7) . ',GET,' . (200 + ($r % 3) * 150) . ",$rt\n";
	}
	close $fh;
}

# One writer per script; each transaction writes in two statements whose
# key orders differ (ascending/descending over a random stride).
my %scripts = (
	'rows.sql' => q{
\set n random(1, 300)
\set s random(1, 599)
BEGIN;
SELECT count(pk_keys.pk_usage_create(k.id, '/e' || (k.i * g % 7), 'GET', 200 + (g % 3) * 150, NULLIF(g % 50, 0),
       NULL, NULL, now() - (k.i * g % 20) * interval '1 day'))
FROM generate_series(1, :n) g JOIN keys k ON k.i = (g * :s) % 600;
SELECT count(pk_keys.pk_usage_create(k.id, '/e' || (k.i % 5), 'POST', 201, g % 90,
       NULL, NULL, now() - (k.i % 20) * interval '1 day'))
FROM generate_series(1, :n) g JOIN keys k ON k.i = 599 - (g * :s) % 600;
COMMIT;
},
	'bulk.sql' => q{
\set n random(1, 10000)
\set s random(1, 599)
BEGIN;
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint, method, status_code, response_time_ms)
SELECT k.id, k.org, now() - (k.i * g % 20) * interval '1 day' - (g % 500) * interval '1 second', '/e' || (k.i * g % 7), 'GET',
       200 + (g % 3) * 150, NULLIF(g % 100, 7)
FROM generate_series(1, :n) g JOIN keys k ON k.i = 599 - (g * :s) % 600;
SELECT count(pk_keys.pk_usage_create(k.id, '/e' || (k.i % 7), 'GET', 404, g, NULL, NULL, now() - (k.i % 2) * interval '1 day'))
FROM generate_series(1, 50) g JOIN keys k ON k.i = (g * :s) % 600;
COMMIT;
},
	'maintain.sql' => q{
SELECT count(*) FROM pk_keys.pk_usage_maintain();
SELECT pg_sleep(0.2);
},
);
for my $f (1 .. 4) {
	$scripts{"copy$f.sql"} = qq{
\\set s random(1, 599)
BEGIN;
SELECT count(pk_keys.pk_usage_create(k.id, '/e' || (k.i % 7), 'GET', 500, NULL, NULL, NULL, now() - (k.i % 20) * interval '1 day'))
FROM generate_series(1, 20) g JOIN keys k ON k.i = (g * :s) % 600;
COPY pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint, method, status_code, response_time_ms)
FROM '$dir/copy$f.csv' (FORMAT csv);
COMMIT;
};
}
if ($has_record) {
	$scripts{'record.sql'} = q{
\set n random(1, 200)
\set s random(1, 599)
BEGIN;
SELECT count(pk_keys.pk_usage_record(k.id, '/e' || (k.i * g % 7), 'GET', 200 + (g % 3) * 150, g % 60,
       NULL, NULL, now() - (k.i * g % 20) * interval '1 day')) FROM generate_series(1, :n) g JOIN keys k ON k.i = (g * :s) % 600;
SELECT count(pk_keys.pk_usage_create(k.id, '/e' || (k.i % 3), 'GET', 200, g % 60,
       NULL, NULL, now() - (k.i % 20) * interval '1 day')) FROM generate_series(1, 10) g JOIN keys k ON k.i = 599 - (g * :s) % 600;
COMMIT;
};
}
for my $name (keys %scripts) {
	open my $fh, '>', "$dir/$name" or die;
	print $fh $scripts{$name};
	close $fh;
}

# Eight writers: each pgbench client runs one script, chosen by weight.
my @weights = ('rows.sql@4', 'bulk.sql@2', 'copy1.sql@1', 'copy2.sql@1', 'copy3.sql@1', 'copy4.sql@1');
push @weights, 'record.sql@3' if $has_record;
# -C: a new connection (so a new backend pid and proc number) per
# transaction, as pooled gateways do; backends then share pid-derived shards.
my @cmd = ('pgbench', '-n', '-C', '--failures-detailed', '-c', '8', '-j', '8', '-T', $seconds, '-M', 'simple',
	'-h', $node->host, '-p', $node->port, map({ ('-f', "$dir/$_") } @weights), 'postgres');
my $rows_before = $node->safe_psql('postgres', 'SELECT count(*) FROM pk_keys.api_key_usage');
# A ninth session runs maintenance (partitions, shard folding) meanwhile.
my @maint = ('pgbench', '-n', '-c', '1', '-T', $seconds, '-h', $node->host, '-p', $node->port,
	'-f', "$dir/maintain.sql", 'postgres');
my ($out, $err, $mout, $merr) = ('', '', '', '');
my $mh = IPC::Run::start(\@maint, '>', \$mout, '2>', \$merr);
my $t0 = time();
my $ok = IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
my $elapsed = time() - $t0;
$mh->finish;
my $errors = () = $err =~ /ERROR/g;
# pgbench counts deadlocks and serialization failures as failed
# transactions (and goes on); any other error aborts the client.
my ($deadlocks) = $out =~ /number of deadlock failures: (\d+)/;
my ($serial) = $out =~ /number of serialization failures: (\d+)/;
my ($failed) = $out =~ /number of failed transactions: (\d+)/;
$deadlocks //= -1;
$serial //= -1;
$failed //= -1;
$node->safe_psql('postgres', 'SELECT pk_keys.pk_flush()') if $has_record;
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM pk_keys.api_key_usage') - $rows_before;
diag(sprintf('8 mixed writers for %d s: %d rows (%.0f rows/s), %d failed transactions, %d errors, '
	  . '%d deadlocks, %d serialization failures', $elapsed, $rows, $rows / ($elapsed || 1), $failed, $errors,
	$deadlocks, $serial));
diag($err) if $errors;
diag($merr) if $merr =~ /ERROR/;
is($deadlocks, 0, 'no deadlock between writers');
is($serial, 0, 'no serialization failure');
is($failed, 0, 'no failed transaction');
is($errors, 0, 'no writer failed');
ok($ok, 'pgbench writers finished cleanly');
unlike($merr, qr/ERROR/, 'maintenance beside the writers never failed');
cmp_ok($rows, '>', 1000, 'the writers wrote rows');

# Every aggregate equals a GROUP BY over the raw rows.
my $mismatches = q{
	WITH raw AS (
	    SELECT organization_id AS o, timezone('UTC', occurred_at)::date AS d, count(*) AS n,
	           count(*) FILTER (WHERE status_code < 400) AS s, count(*) FILTER (WHERE status_code >= 400) AS f,
	           avg(response_time_ms)::float8 AS a, count(DISTINCT api_key_id) AS u
	    FROM pk_keys.api_key_usage GROUP BY 1, 2),
	raw_month AS (
	    SELECT organization_id AS o, date_trunc('month', timezone('UTC', occurred_at))::date AS m, count(*) AS n,
	           count(*) FILTER (WHERE status_code < 400) AS s, count(DISTINCT api_key_id) AS u
	    FROM pk_keys.api_key_usage GROUP BY 1, 2)
	SELECT (SELECT count(*) FROM raw r, pk_keys.pk_usage_get_daily_stats(r.o, r.d, r.d) s
	        WHERE (s.total_requests, s.successful_requests, s.failed_requests, s.unique_keys)
	              IS DISTINCT FROM (r.n, r.s, r.f, r.u)
	           OR abs(s.avg_response_time_ms - r.a) > 1e-9)
	     + (SELECT count(*) FROM raw_month r, LATERAL pk_keys.pk_usage_get_summary(r.o, r.m) j
	        WHERE ((j->>'total_requests')::bigint, (j->>'successful_requests')::bigint, (j->>'unique_keys')::bigint)
	              IS DISTINCT FROM (r.n, r.s, r.u))
	     + (SELECT count(*) FROM (SELECT sum(requests) FROM pk_keys.usage_rollup) x(n)
	        WHERE n IS DISTINCT FROM (SELECT count(*) FROM pk_keys.api_key_usage))};
is($node->safe_psql('postgres', $mismatches), '0', 'daily stats and summaries equal GROUP BY over raw rows');
$node->safe_psql('postgres', 'SELECT count(*) FROM pk_keys.pk_usage_maintain()');
is($node->safe_psql('postgres', $mismatches), '0', 'and still after folding the shards');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pk_keys.usage_rollup WHERE shard <> 0 AND day < timezone('UTC', now())::date}),
	'0', 'past days folded into shard 0');

$node->stop;
done_testing();
