# An organization pool under real concurrency: 4 pgbench clients spend one
# pool through 3 keys at random. The pool admits exactly its limit (fixed and
# sliding windows), with and without shared_preload_libraries; and a limit
# refused by the key's own limit takes nothing from the pool (all or nothing).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# 4 clients x $count calls of one pgbench script.
sub hammer {
	my ($node, $name, $sql, $count) = @_;
	my $script = $node->basedir . "/$name.sql";
	open(my $fh, '>', $script) or die $!;
	print $fh "\\set k random(1, 3)\n$sql\n";
	close $fh;
	$node->command_ok(
		[ 'pgbench', '-n', '-c', '4', '-j', '2', '-t', $count, '-f', $script, '-d', 'postgres' ],
		"pgbench $name");
}

for my $preload (0, 1) {
	my $mode = $preload ? 'preloaded' : 'tables';
	my $node = PostgreSQL::Test::Cluster->new("pool_$mode");
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pk_keys'") if $preload;
	$node->start;
	$node->safe_psql('postgres', q{
		CREATE EXTENSION pk_keys;
		CREATE TABLE results (name text, n int, code text);
		CREATE TABLE keys AS
		SELECT i AS n, k.id, k.full_key, o.id AS org
		FROM pk_keys.pk_org_create('Pool', 'pool@example.com', 'enterprise') o,
		     generate_series(1, 3) i, LATERAL pk_keys.pk_key_create(o.id, 'k' || i) k;
		SELECT (pk_keys.pk_limit_set(org, 'fixed_pool', 50, '1 day', algorithm => 'fixed')).id FROM keys WHERE n = 1;
		SELECT (pk_keys.pk_limit_set(org, 'sliding_pool', 40, '1 day')).id FROM keys WHERE n = 1;
		SELECT (pk_keys.pk_limit_set(org, 'aon_pool', 30, '1 day', algorithm => 'fixed')).id FROM keys WHERE n = 1;
		SELECT (pk_keys.pk_limit_set(org, 'own', 5, '1 day', id, 'fixed')).id FROM keys WHERE n = 1;});
	is($node->safe_psql('postgres', 'SELECT pk_keys.pk_shared_memory_enabled()'),
		$preload ? 't' : 'f', "$mode: shared memory as configured");

	for my $pool ('fixed_pool', 'sliding_pool') {
		hammer($node, $pool,
			"INSERT INTO results SELECT '$pool', :k, code FROM pk_keys.pk_authenticate_request("
			  . "(SELECT full_key FROM keys WHERE n = :k), limits => '{\"$pool\": 1}');",
			30);
		my $lim = $pool eq 'fixed_pool' ? 50 : 40;
		is($node->safe_psql('postgres',
				"SELECT count(*) FILTER (WHERE code = 'VALID') || '/' || count(*) FROM results WHERE name = '$pool'"),
			"$lim/120", "$mode: $pool admits exactly $lim of 120 calls across 3 keys");
		is($node->safe_psql('postgres',
				"SELECT count(DISTINCT n) FROM results WHERE name = '$pool' AND code = 'VALID'"),
			'3', "$mode: $pool admitted calls of every key");
	}

	# Key 1 also spends its own limit of 5: once that refuses, its calls take
	# nothing from the pool, so the pool still admits exactly 30 in all.
	hammer($node, 'aon',
		"INSERT INTO results SELECT 'aon', :k, code FROM pk_keys.pk_authenticate_request("
		  . "(SELECT full_key FROM keys WHERE n = :k), limits => CASE WHEN :k = 1 "
		  . "THEN '{\"aon_pool\": 1, \"own\": 1}'::jsonb ELSE '{\"aon_pool\": 1}'::jsonb END);",
		30);
	is($node->safe_psql('postgres',
			"SELECT count(*) FILTER (WHERE code = 'VALID') FROM results WHERE name = 'aon'"),
		'30', "$mode: all or nothing: the pool admits exactly 30");
	is($node->safe_psql('postgres',
			"SELECT count(*) FILTER (WHERE code = 'VALID') <= 5 FROM results WHERE name = 'aon' AND n = 1"),
		't', "$mode: key 1 never exceeds its own limit of 5");
	$node->stop;
}

done_testing();
