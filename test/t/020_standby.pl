# Hot standby: pk_authenticate answers validity, scopes, expiry and
# revocation on a streaming replica, enforces rate limits in that server's
# shared memory, never raises 25006, and says what it could not record.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'pk_keys'");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION pk_keys;
	CREATE TABLE keys AS
	SELECT 'plain' AS name, k.id, k.full_key
	FROM pk_keys.pk_org_create('Replica', 'replica@example.com') o,
	     pk_keys.pk_key_create(o.id, scopes => '{read}', rate_limit_per_minute => 2, remaining => 5) k;
	INSERT INTO keys SELECT 'to_revoke', k.id, k.full_key
	FROM pk_keys.pk_org_get_by_slug('replica') o, pk_keys.pk_key_create(o.id) k;});

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'standby is in recovery');

sub auth {
	my ($node, $name, $scopes) = @_;
	$scopes //= '{}';
	return $node->safe_psql('postgres',
		"SELECT code || ',' || coalesce(remaining::text, '') || ',' || recorded::text
		   FROM keys, pk_keys.pk_authenticate(full_key, '$scopes') WHERE name = '$name'");
}

# Validity and scopes are answered; credits are checked but not spent, and
# recorded = false says so.
my $wall = $standby->safe_psql('postgres', q{
	DO $$ BEGIN
		IF extract(second FROM clock_timestamp()) > 45 THEN
			PERFORM pg_sleep(61 - extract(second FROM clock_timestamp()));
		END IF;
	END $$;});
is(auth($standby, 'plain'), 'VALID,5,false', 'standby: VALID, credits not spent, not recorded');
is(auth($standby, 'plain', '{admin}'), 'INSUFFICIENT_SCOPE,5,false', 'standby: scopes checked');
is($standby->safe_psql('postgres', q{SELECT code FROM pk_keys.pk_authenticate('garbage')}),
	'MALFORMED', 'standby: malformed key');
# The rate limit of 2 per minute is enforced in the standby's shared memory.
is(auth($standby, 'plain'), 'VALID,5,false', 'standby: second call admitted');
is(auth($standby, 'plain'), 'RATE_LIMITED,5,false', 'standby: third call rate limited');
is($standby->safe_psql('postgres',
		q{SELECT allowed FROM keys, pk_keys.pk_rate_limit_check(id, 2) WHERE name = 'plain'}),
	'f', 'standby: pk_rate_limit_check shares the window');
my ($ret, $stdout, $stderr) = $standby->psql('postgres',
	q{SELECT code FROM keys, pk_keys.pk_authenticate(full_key, '{}', 2) WHERE name = 'to_revoke'});
is($ret, 0, 'standby: no error (never 25006)');
unlike($stderr, qr/25006|read-only/, 'standby: nothing tried to write');

# Nothing was written on the primary by the standby's calls.
is($primary->safe_psql('postgres',
		q{SELECT remaining || ',' || request_count FROM pk_keys.api_keys
		  WHERE id = (SELECT id FROM keys WHERE name = 'plain')}),
	'5,0', 'primary: standby calls spent and counted nothing');

# A revocation on the primary is refused on the standby once replayed.
is(auth($standby, 'to_revoke'), 'VALID,,false', 'standby: key valid before revocation');
$primary->safe_psql('postgres',
	q{SELECT pk_keys.pk_key_revoke(id, 'leaked', NULL) FROM keys WHERE name = 'to_revoke'});
$primary->wait_for_catchup($standby);
is(auth($standby, 'to_revoke'), 'REVOKED,,false', 'standby: revocation honoured once replayed');

# Expiry too.
$primary->safe_psql('postgres',
	q{UPDATE pk_keys.api_keys SET expires_at = now() - interval '1 minute'
	  WHERE id = (SELECT id FROM keys WHERE name = 'plain')});
$primary->wait_for_catchup($standby);
is(auth($standby, 'plain'), 'EXPIRED,5,false', 'standby: expiry honoured once replayed');

$standby->stop;
$primary->stop;
done_testing();
