# Edge verification by built-in logical replication: a publisher with the
# organizations and api_keys tables in a publication, a subscriber (its own
# pk_keys, library preloaded) subscribed to them. Keys authenticate on the
# subscriber; a key created, revoked or deactivated on the publisher is
# honoured there once replicated. Prints the measured replication lag.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->start;
my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init;
$sub->append_conf('postgresql.conf', "shared_preload_libraries = 'pk_keys'\npk_keys.flush_interval = 200");
$sub->start;

$pub->safe_psql('postgres', q{
	CREATE EXTENSION pk_keys;
	CREATE TABLE keys AS
	SELECT 'first' AS name, k.id, k.full_key
	FROM pk_keys.pk_org_create('Edge', 'edge@example.com', 'pro') o,
	     pk_keys.pk_key_create(o.id, 'first', scopes => '{read}') k;
	CREATE PUBLICATION pk_keys_edge FOR TABLE pk_keys.organizations, pk_keys.api_keys;});
$sub->safe_psql('postgres', 'CREATE EXTENSION pk_keys');
# And a streaming (physical) hot standby of the publisher, for comparison.
$pub->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($pub, 'backup', has_streaming => 1);
$standby->start;
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION pk_keys_edge CONNECTION '$connstr' PUBLICATION pk_keys_edge");
$sub->wait_for_subscription_sync($pub, 'pk_keys_edge');

my $first = $pub->safe_psql('postgres', q{SELECT full_key FROM keys WHERE name = 'first'});
sub auth_on {
	my ($node, $key, $scopes) = @_;
	$scopes //= '{}';
	return $node->safe_psql('postgres',
		"SELECT code || ',' || recorded FROM pk_keys.pk_authenticate('$key', '$scopes')");
}

is($sub->safe_psql('postgres', 'SELECT count(*) FROM pk_keys.api_keys'), '1', 'the key row was copied');
is(auth_on($sub, $first, '{read}'), 'VALID,true', 'subscriber: the key authenticates (and counts locally)');
is(auth_on($sub, $first, '{admin}'), 'INSUFFICIENT_SCOPE,true', 'subscriber: scopes checked');

# A key made on the publisher authenticates on the subscriber once replicated.
my $second = $pub->safe_psql('postgres', q{
	INSERT INTO keys SELECT 'second', k.id, k.full_key
	FROM pk_keys.pk_org_get_by_slug('edge') o, pk_keys.pk_key_create(o.id, 'second') k
	RETURNING full_key});
$pub->wait_for_catchup('pk_keys_edge');
is(auth_on($sub, $second), 'VALID,true', 'a key created on the publisher works on the subscriber');

# Revocation: measure from the publisher's commit to the first refusal on
# the subscriber and on the standby (polling every 5 ms).
$pub->safe_psql('postgres', q{SELECT pk_keys.pk_key_revoke(id, 'leaked', NULL) FROM keys WHERE name = 'first'});
my $t_commit = time;
my %lag;
for (1 .. 2000) {
	for my $node ($sub, $standby) {
		next if exists $lag{$node->name};
		my $code = $node->safe_psql('postgres', "SELECT code FROM pk_keys.pk_authenticate('$first')");
		$lag{$node->name} = (time - $t_commit) * 1000 if $code eq 'REVOKED';
	}
	last if keys %lag == 2;
	usleep(5_000);
}
ok(exists $lag{subscriber}, 'a revocation on the publisher is refused on the subscriber once replicated');
ok(exists $lag{standby}, 'and on the streaming standby');
diag(sprintf('revocation commit on the publisher -> first refusal: logical subscriber %.1f ms, '
	  . 'streaming standby %.1f ms (upper bounds: each poll starts a psql, alternating between the two)',
	  $lag{subscriber}, $lag{standby}));

# Deactivating the organization on the publisher disables its keys there too.
$pub->safe_psql('postgres', q{SELECT pk_keys.pk_org_update(id, '{"is_active": false}') FROM pk_keys.organizations});
$pub->wait_for_catchup('pk_keys_edge');
is(auth_on($sub, $second), 'DISABLED,true', 'an organization deactivated on the publisher: DISABLED on the subscriber');

# The lag the server itself reports for the subscription.
my $lsn_lag = $pub->safe_psql('postgres', q{
	SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication
	WHERE application_name = 'pk_keys_edge'});
like($lsn_lag, qr/^\d+$/, 'pg_stat_replication reports the subscription');
diag("pg_stat_replication: subscriber replay is $lsn_lag bytes behind the publisher after catch-up");

$standby->stop;
$sub->stop;
$pub->stop;
done_testing();
