# Events raised where nothing may be written. On a primary, in a read-only
# transaction with the library preloaded, the event is queued in shared
# memory and written by the flusher (here: pk_flush) with its NOTIFY. On a
# hot standby the call still answers (VALID, recorded = false) and the event
# is dropped and counted: the standby's flusher cannot write to the primary.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('events_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'pk_keys'");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION pk_keys;
	CREATE TABLE keys AS
	SELECT v.name, k.id, k.full_key
	FROM pk_keys.pk_org_create('Read Only', 'read-only@example.com') o,
	     (VALUES ('primary_key'), ('standby_key')) v(name),
	     LATERAL pk_keys.pk_key_create(o.id, v.name, expires_at => now() + interval '2 days') k;});

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('events_standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

# A read-only transaction on the primary: queued, then written by a flush.
is($primary->safe_psql('postgres', q{
	BEGIN READ ONLY;
	SELECT code || ',' || recorded || ',' || (SELECT count(*) FROM pk_keys.events)
	FROM keys, pk_keys.pk_authenticate(full_key) WHERE name = 'primary_key';
	COMMIT;}), 'VALID,false,0', 'read-only call on the primary answers and writes nothing itself');
# The woken flusher writes it soon; pk_flush writes it now if it has not.
$primary->safe_psql('postgres', 'SELECT pk_keys.pk_flush()');
is($primary->safe_psql('postgres', q{
	SELECT string_agg(e.kind || ':' || k.name, ',') FROM pk_keys.events e JOIN keys k ON k.id = e.api_key_id}),
	'key.expiring:primary_key', 'the queued event is written by the flush');
is($primary->safe_psql('postgres', 'SELECT pk_keys.pk_events_dropped()'), '0', 'nothing dropped on the primary');

# The standby: answers, cannot write, counts the drop.
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{
	SELECT code || ',' || recorded FROM keys, pk_keys.pk_authenticate(full_key) WHERE name = 'standby_key'}),
	'VALID,false', 'the standby answers');
is($standby->safe_psql('postgres', 'SELECT pk_keys.pk_events_dropped()'), '1', 'the standby counts the dropped event');
$primary->wait_for_catchup($standby);
is($primary->safe_psql('postgres', q{SELECT count(*) FROM pk_keys.events}), '1',
	'no event from the standby reached the primary');

$standby->stop;
$primary->stop;
done_testing();
