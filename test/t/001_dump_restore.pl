# pg_dump / pg_restore round trip: the extension's tables are registered with
# pg_extension_config_dump, so a restored database holds the same rows, its
# sequences and defaults go on working, a saved key still verifies against
# its stored hash, and DROP EXTENSION still works there.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump_restore');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE pk_src');
$node->safe_psql('postgres', 'CREATE DATABASE pk_dst');
$node->safe_psql('pk_src', 'CREATE EXTENSION pk_keys');

# Rows in every contract table, made with plain INSERTs; the full keys are
# printed once here and kept only in this script.
my $keys = $node->safe_psql(
	'pk_src', q{
	CREATE TEMP TABLE live_key AS SELECT * FROM pk_keys.pk_generate_key('live');
	CREATE TEMP TABLE test_key AS SELECT * FROM pk_keys.pk_generate_key('test');
	INSERT INTO pk_keys.organizations (name, slug, email, plan, metadata)
	VALUES ('Acme Corp', 'acme-corp', 'ops@acme.example', 'pro', '{"tier": "gold"}'),
	       ('Globex', 'globex', 'it@globex.example', 'free', '{}');
	INSERT INTO pk_keys.api_keys (organization_id, name, key_prefix, key_hash, key_hint,
	                              environment, scopes, remaining, metadata)
	SELECT o.id, 'primary', k.key_prefix, k.key_hash, k.key_hint, 'live',
	       '{read,write}', 1000, '{"owner": "alice"}'
	FROM pk_keys.organizations o, live_key k WHERE o.slug = 'acme-corp';
	INSERT INTO pk_keys.api_keys (organization_id, key_prefix, key_hash, key_hint, environment,
	                              expires_at, revoked_at, revoked_reason)
	SELECT o.id, k.key_prefix, k.key_hash, k.key_hint, 'test',
	       '2031-01-01 00:00:00+00', '2024-06-01 12:00:00+00', 'rotated'
	FROM pk_keys.organizations o, test_key k WHERE o.slug = 'globex';
	INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint,
	                                   method, status_code, response_time_ms, ip_address,
	                                   user_agent)
	SELECT a.id, a.organization_id, now() - make_interval(mins => g), '/v1/items/' || g,
	       'GET', CASE WHEN g % 3 = 0 THEN 500 ELSE 200 END, 10 + g, '192.0.2.1', 'tap'
	FROM pk_keys.api_keys a, generate_series(1, 5) AS g WHERE a.environment = 'live';
	INSERT INTO pk_keys.rate_limit_tracking (api_key_id, window_seconds, window_start,
	                                         request_count)
	SELECT id, 60, date_trunc('minute', now()), 7 FROM pk_keys.api_keys;
	SELECT full_key FROM live_key UNION ALL SELECT full_key FROM test_key;
});
my ($live_key, $test_key) = split /\n/, $keys;
like($live_key, qr/^pk_live_[A-Za-z0-9_-]{43}$/, 'generated a live key');
like($test_key, qr/^pk_test_[A-Za-z0-9_-]{43}$/, 'generated a test key');

# Count and content hash of every table of the schema (partitions and any
# table the usage store adds included), and every sequence's state.
sub snapshot
{
	my ($db) = @_;
	my $tables = $node->safe_psql(
		$db, q{
		SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = 'pk_keys'::regnamespace AND c.relkind = 'r'
		ORDER BY c.relname});
	my @lines;
	foreach my $t (split /\n/, $tables)
	{
		push @lines,
		  $t . ' '
		  . $node->safe_psql($db,
			"SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
			  . " FROM pk_keys.\"$t\" AS t");
	}
	my $seqs = $node->safe_psql(
		$db, q{
		SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = 'pk_keys'::regnamespace AND c.relkind = 'S'
		ORDER BY c.relname});
	foreach my $s (split /\n/, $seqs)
	{
		push @lines,
		  $s . ' '
		  . $node->safe_psql($db,
			"SELECT last_value || ' ' || is_called FROM pk_keys.\"$s\"");
	}
	return join("\n", @lines);
}

my $before = snapshot('pk_src');
like($before, qr/^organizations 2 /m,        'source has 2 organizations');
like($before, qr/^api_keys 2 /m,             'source has 2 api keys');
like($before, qr/^rate_limit_tracking 2 /m,  'source has 2 rate-limit rows');
is( $node->safe_psql('pk_src', 'SELECT count(*) FROM pk_keys.api_key_usage'),
	'5', 'source has 5 usage rows');

# Dump, list, restore.
my $dump = PostgreSQL::Test::Utils::tempdir() . '/pk_src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', 'pk_src' ], 'pg_dump -Fc');
my ($list) = run_command([ 'pg_restore', '-l', $dump ]);
# (a partitioned table's rows are dumped as those of its partitions)
foreach my $t (qw(organizations api_keys api_key_usage rate_limit_tracking))
{
	like($list, qr/TABLE DATA pk_keys ${t}\w* /, "the dump holds the rows of $t");
}
my ($sql) = run_command([ 'pg_restore', '-f', '-', $dump ]);
ok(index($sql, $live_key) < 0 && index($sql, $test_key) < 0,
	'no full key in the dump');
my ($out, $err) =
  run_command([ 'pg_restore', '-h', $node->host, '-p', $node->port, '-d', 'pk_dst', $dump ]);
is($err, '', 'pg_restore reports no error');

# The same rows, byte for byte, and the same sequence states.
is(snapshot('pk_dst'), $before, 'restored tables and sequences are identical');
is($node->safe_psql('pk_dst', 'SELECT count(*) FROM pk_keys.api_key_usage'),
	'5', 'restored database has the 5 usage rows');
is( $node->safe_psql(
		'pk_dst',
		"SELECT extversion FROM pg_extension WHERE extname = 'pk_keys'"),
	$node->safe_psql(
		'pk_src',
		"SELECT extversion FROM pg_extension WHERE extname = 'pk_keys'"),
	'same extension version');

# The saved keys verify against their stored hashes.
is( $node->safe_psql(
		'pk_dst', qq{
		SELECT pk_keys.pk_verify_key('$live_key', key_hash) FROM pk_keys.api_keys
		WHERE key_hash = pk_keys.pk_hash_key('$live_key')}),
	't', 'saved live key verifies in the restored database');
is( $node->safe_psql(
		'pk_dst', qq{
		SELECT pk_keys.pk_verify_key('$test_key', key_hash) FROM pk_keys.api_keys
		WHERE environment = 'test'}),
	't', 'saved test key verifies in the restored database');
is( $node->safe_psql(
		'pk_dst', qq{
		SELECT count(*) FROM pk_keys.api_keys WHERE pk_keys.pk_verify_key('$test_key', key_hash)}),
	'1', 'the test key matches only its own row');

# The hot path answers for the restored rows.
is( $node->safe_psql(
		'pk_dst', qq{
		SELECT valid, code, remaining FROM pk_keys.pk_authenticate('$live_key')}),
	't|VALID|999', 'saved live key authenticates in the restored database');
is( $node->safe_psql(
		'pk_dst', qq{
		SELECT valid, code FROM pk_keys.pk_authenticate('$test_key')}),
	'f|REVOKED', 'revoked key stays revoked in the restored database');

# The restored database goes on working: defaults, triggers, sequences,
# constraints.
is( $node->safe_psql(
		'pk_dst', q{
		INSERT INTO pk_keys.organizations (name, slug, email)
		VALUES ('Initech', 'initech', 'it@initech.example')
		RETURNING id IS NOT NULL, plan, rate_limit_per_minute, is_active}),
	't|free|60|t', 'new organization gets its defaults');
is( $node->safe_psql(
		'pk_dst', q{
		INSERT INTO pk_keys.api_keys (organization_id, key_prefix, key_hash, key_hint, environment)
		SELECT o.id, k.key_prefix, k.key_hash, k.key_hint, 'live'
		FROM pk_keys.organizations o, pk_keys.pk_generate_key() k WHERE o.slug = 'initech'
		RETURNING id IS NOT NULL, request_count, is_active}),
	't|0|t', 'new api key gets its defaults');
is( $node->safe_psql(
		'pk_dst', q{
		WITH old AS (SELECT max(id) AS m FROM pk_keys.api_key_usage)
		INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, endpoint)
		SELECT a.id, a.organization_id, '/v1/after-restore'
		FROM pk_keys.api_keys a WHERE a.environment = 'test'
		RETURNING id > (SELECT m FROM old)}),
	't', 'usage ids continue after the restored ones');
my ($ret, $stdout, $stderr) = $node->psql(
	'pk_dst', q{
	INSERT INTO pk_keys.api_keys (organization_id, key_prefix, key_hash, key_hint, environment)
	SELECT organization_id, key_prefix, key_hash, key_hint, environment
	FROM pk_keys.api_keys WHERE environment = 'test'});
like($stderr, qr/duplicate key value violates unique constraint/,
	'unique key_hash is enforced after restore');
is( $node->safe_psql(
		'pk_dst', q{
		DELETE FROM pk_keys.organizations WHERE slug = 'globex';
		SELECT count(*) FROM pk_keys.api_keys WHERE environment = 'test'}),
	'0', 'ON DELETE CASCADE still holds');

# The source is untouched by all this.
is(snapshot('pk_src'), $before, 'source database unchanged');

# DROP EXTENSION works in the restored database and leaves no table behind.
$node->safe_psql('pk_dst', 'DROP EXTENSION pk_keys');
is( $node->safe_psql(
		'pk_dst', q{
		SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'pk_keys'}),
	'0', 'DROP EXTENSION leaves no relation in schema pk_keys');
$node->safe_psql('pk_dst', 'CREATE EXTENSION pk_keys');
is( $node->safe_psql(
		'pk_dst', q{
		SELECT pk_keys.pk_validate_key_format(full_key) FROM pk_keys.pk_generate_key()}),
	't', 'CREATE EXTENSION again works in the restored database');

$node->stop;
done_testing();
