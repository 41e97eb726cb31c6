# The usage store through pg_dump / pg_restore: month partitions made by
# pk_usage_maintain() are ordinary tables (not extension members), so the
# dump carries them, their rows and their ATTACH; the DEFAULT partition and
# the aggregate tables are registered with pg_extension_config_dump. The
# restore must run without a single error, count nothing twice (rows are
# restored straight into the leaves, below the aggregating trigger) and
# leave a database whose summaries, daily statistics, inserts and
# maintenance go on working.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('usage_dump');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->safe_psql('src', 'CREATE EXTENSION pk_keys');

# Usage in three past months: two get partitions (one of them after its
# rows waited in DEFAULT), one stays in DEFAULT; plus today's rows.
$node->safe_psql(
	'src', q{
	SELECT o.id AS org FROM pk_keys.pk_org_create('Dump Org', 'dump@example.com') o \gset
	CREATE TABLE keys AS
	    SELECT k.id FROM generate_series(1, 3) g, LATERAL pk_keys.pk_key_create(:'org', 'key ' || g) k;
	SELECT count(pk_keys.pk_usage_create(k.id, '/v1/' || g % 4, 'GET', 200 + (g % 3) * 150, g % 90,
	                                     NULL, NULL, timestamptz '2022-01-01 00:00:00+00' + g * interval '7 hours'))
	FROM keys k, generate_series(1, 300) g;
	INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint, status_code)
	SELECT (SELECT id FROM keys LIMIT 1), :'org', timestamptz '2022-04-01 00:00:00+00' + g * interval '1 hour',
	       '/bulk', 200
	FROM generate_series(1, 500) g;
	SELECT pk_keys.pk_usage_create_partition('2022-02-01');
	SELECT pk_keys.pk_usage_create_partition('2022-03-01');
	SELECT count(pk_keys.pk_usage_create(id, '/today')) FROM keys;
	DROP TABLE keys;
});

my $partitions = q{
	SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i
	JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'pk_keys.api_key_usage_months'::regclass};
is($node->safe_psql('src', $partitions),
	'api_key_usage_default,api_key_usage_p202202,api_key_usage_p202203',
	'source: two month partitions and DEFAULT');

# What must survive: every summary and daily statistic, the raw rows, the
# aggregate tables, the sequence.
my $state = q{
	SELECT string_agg(x, E'\n' ORDER BY x) FROM (
	    SELECT 'summary ' || m || ' ' || (pk_keys.pk_usage_get_summary(o.id, m) - 'organization_id') AS x
	    FROM pk_keys.organizations o,
	         unnest(ARRAY[date '2022-01-01', '2022-02-01', '2022-03-01', '2022-04-01', '2022-05-01']) m
	    UNION ALL
	    SELECT 'days ' || string_agg(d::text, ',' ORDER BY d.day)
	    FROM pk_keys.organizations o, pk_keys.pk_usage_get_daily_stats(o.id, '2021-12-30', '2022-05-31') d
	    UNION ALL
	    SELECT 'raw ' || count(*) || ' ' || md5(string_agg(u::text, ',' ORDER BY u.id)) FROM pk_keys.api_key_usage u
	    UNION ALL
	    SELECT 'rollup ' || sum(requests) || ' ' || count(*) FROM pk_keys.usage_rollup
	    UNION ALL
	    SELECT 'day keys ' || count(*) FROM pk_keys.usage_day_keys
	    UNION ALL
	    SELECT 'month keys ' || string_agg(month || '=' || api_key_id || '/' || shard, ',' ORDER BY month, api_key_id, shard)
	    FROM pk_keys.usage_month_keys
	    UNION ALL
	    SELECT 'sequence ' || last_value FROM pk_keys.api_key_usage_id_seq) s};
my $before = $node->safe_psql('src', $state);
like($before, qr/^raw 1403 /m, 'source has 1403 raw rows');

my $dump = PostgreSQL::Test::Utils::tempdir() . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', 'src' ], 'pg_dump -Fc');
my ($list) = run_command([ 'pg_restore', '-l', $dump ]);
like($list, qr/TABLE pk_keys api_key_usage_p202202 /, 'the dump creates the month partitions');
like($list, qr/TABLE ATTACH pk_keys api_key_usage_p202203 /, 'and attaches them');
like($list, qr/TABLE DATA pk_keys api_key_usage_default /, 'DEFAULT partition rows are dumped');
like($list, qr/TABLE DATA pk_keys usage_rollup /, 'aggregates are dumped');
unlike($list, qr/TABLE pk_keys (api_key_usage|api_key_usage_months|api_key_usage_default|usage_rollup) /,
	'extension member tables are not created by the dump');

my ($out, $err) = run_command(
	[ 'pg_restore', '--exit-on-error', '-h', $node->host, '-p', $node->port, '-d', 'dst', $dump ]);
is($err, '', 'pg_restore --exit-on-error reports no error');
is($node->safe_psql('dst', $partitions), $node->safe_psql('src', $partitions),
	'same partitions after restore');
is($node->safe_psql('dst', $state), $before, 'summaries, daily stats, rows and aggregates are identical');

# The restored store goes on working.
$node->safe_psql(
	'dst', q{
	SELECT count(pk_keys.pk_usage_create(k.id, '/after', occurred_at => '2022-03-15 00:00:00+00'))
	FROM pk_keys.api_keys k;
	INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint)
	SELECT id, organization_id, '2022-04-15 00:00:00+00', '/after' FROM pk_keys.api_keys;
});
is( $node->safe_psql(
		'dst', q{
		SELECT (pk_keys.pk_usage_get_summary(o.id, '2022-03-01')->>'total_requests')::int
		     - (SELECT count(*) FROM pk_keys.api_key_usage u
		        WHERE u.occurred_at >= '2022-03-01 00:00:00+00' AND u.occurred_at < '2022-04-01 00:00:00+00')
		FROM pk_keys.organizations o}),
	'0', 'new rows are aggregated once in the restored database');
is( $node->safe_psql(
		'dst', q{
		SELECT (SELECT min(id) FROM pk_keys.api_key_usage WHERE endpoint = '/after')
		     > (SELECT max(id) FROM pk_keys.api_key_usage WHERE endpoint <> '/after')}),
	't', 'usage ids continue after the restored ones');
is( $node->safe_psql(
		'dst', q{
		SELECT string_agg(line, ',' ORDER BY line) FROM pk_keys.pk_usage_maintain(0) line
		WHERE line LIKE '%p2022%'}),
	'created api_key_usage_p202201 (318 rows moved from api_key_usage_default),'
	  . 'created api_key_usage_p202204 (503 rows moved from api_key_usage_default)',
	'maintenance works on the restored partitions');
is( $node->safe_psql(
		'dst', q{
		SELECT (pk_keys.pk_usage_get_summary(o.id, '2022-04-01')->>'total_requests')::int
		FROM pk_keys.organizations o}),
	'503', 'moving rows out of DEFAULT counts nothing twice');

# DROP EXTENSION takes the month partitions along (they depend on their
# parent), leaving nothing in the schema.
$node->safe_psql('dst', 'DROP EXTENSION pk_keys');
is( $node->safe_psql(
		'dst', q{SELECT count(*) FROM pg_class WHERE relnamespace = 'pk_keys'::regnamespace}),
	'0', 'DROP EXTENSION leaves no relation behind');

$node->stop;
done_testing();
