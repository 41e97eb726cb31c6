# Exactness under real concurrency: 4 pgbench clients hammer one key. A rate
# limit admits exactly its limit, and N credits admit exactly N VALID calls,
# with and without shared_preload_libraries.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Waits until the current fixed minute has at least 15 s left, so a run stays
# inside one window (a sliding window admits more just after a boundary).
sub wait_for_quiet_minute {
	my ($node) = @_;
	$node->safe_psql('postgres', q{
		DO $$ BEGIN
			IF extract(second FROM clock_timestamp()) > 45 THEN
				PERFORM pg_sleep(61 - extract(second FROM clock_timestamp()));
			END IF;
		END $$;});
}

sub hammer {
	my ($node, $name, $key_sql, $count) = @_;
	my $script = $node->basedir . "/$name.sql";
	open(my $fh, '>', $script) or die $!;
	print $fh "INSERT INTO results (name, code) SELECT '$name', code FROM pk_keys.pk_authenticate(($key_sql));\n";
	close $fh;
	$node->command_ok(
		[ 'pgbench', '-n', '-c', '4', '-j', '2', '-t', $count, '-f', $script, '-d', 'postgres' ],
		"pgbench $name");
}

for my $preload (0, 1) {
	my $mode = $preload ? 'preloaded' : 'tables';
	my $node = PostgreSQL::Test::Cluster->new("concurrency_$mode");
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pk_keys'") if $preload;
	$node->start;
	$node->safe_psql('postgres', q{
		CREATE EXTENSION pk_keys;
		CREATE TABLE results (name text, code text);
		CREATE TABLE keys AS
		SELECT 'limited' AS name, k.id, k.full_key
		FROM pk_keys.pk_org_create('Hammer', 'hammer@example.com', 'enterprise') o,
		     pk_keys.pk_key_create(o.id, rate_limit_per_minute => 50) k;
		INSERT INTO keys
		SELECT 'credits', k.id, k.full_key
		FROM pk_keys.pk_org_get_by_slug('hammer') o,
		     pk_keys.pk_key_create(o.id, remaining => 40) k;});
	is($node->safe_psql('postgres', 'SELECT pk_keys.pk_shared_memory_enabled()'),
		$preload ? 't' : 'f', "$mode: shared memory as configured");

	wait_for_quiet_minute($node);
	hammer($node, 'limited', q{SELECT full_key FROM keys WHERE name = 'limited'}, 30);
	is($node->safe_psql('postgres',
			q{SELECT count(*) FILTER (WHERE code = 'VALID') || '/' || count(*) FROM results WHERE name = 'limited'}),
		'50/120', "$mode: exactly the limit of 50 admitted out of 120 concurrent calls");

	hammer($node, 'credits', q{SELECT full_key FROM keys WHERE name = 'credits'}, 25);
	is($node->safe_psql('postgres',
			q{SELECT count(*) FILTER (WHERE code = 'VALID') || '/' ||
			         count(*) FILTER (WHERE code = 'USAGE_EXCEEDED') FROM results WHERE name = 'credits'}),
		'40/60', "$mode: 40 credits admit exactly 40 of 100 concurrent calls");
	is($node->safe_psql('postgres',
			q{SELECT remaining FROM pk_keys.api_keys WHERE id = (SELECT id FROM keys WHERE name = 'credits')}),
		'0', "$mode: no credit overspent");

	$node->safe_psql('postgres', 'SELECT pk_keys.pk_flush()');
	is($node->safe_psql('postgres',
			q{SELECT request_count FROM pk_keys.api_keys WHERE id = (SELECT id FROM keys WHERE name = 'limited')}),
		'50', "$mode: request_count counts exactly the VALID calls");
	$node->stop;
}

done_testing();
