# pk_schedule_maintenance with pg_cron (Debian's postgresql-15-cron): 55000
# with a hint without pg_cron; with it, the job is registered once (by name),
# runs at the next minute, does its work (an expired key deleted, partitions
# made), and its run is visible in cron.job_run_details ("N rows", one per
# action) and in pk_keys.maintenance_log with every action.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', join("\n",
	"shared_preload_libraries = 'pg_cron,pk_keys'",
	"cron.database_name = 'postgres'",
	"cron.host = '" . $node->host . "'",
	"max_worker_processes = 16"));
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pk_keys;
	CREATE TABLE k AS
	SELECT k.id FROM pk_keys.pk_org_create('Cron', 'cron@example.com') o,
	                 pk_keys.pk_key_create(o.id, 'soon expired', expires_at => now() + interval '1 day') k;
	UPDATE pk_keys.api_keys SET expires_at = now() - interval '1 hour' WHERE id = (SELECT id FROM k);});

my ($ret, $out, $err) = $node->psql('postgres',
	"SET client_min_messages = error; SELECT pk_keys.pk_schedule_maintenance()",
	extra_params => ['-v', 'VERBOSITY=verbose']);
isnt($ret, 0, 'without pg_cron: an error');
like($err, qr/55000: pk_schedule_maintenance: pg_cron is not installed in database postgres/,
	'55000 naming the database');
like($err, qr/HINT:.*shared_preload_libraries = 'pg_cron'.*cron\.schedule_in_database\('pk_keys maintenance', '17 3 \* \* \*'/s,
	'the hint says how to install pg_cron and what to schedule');

$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
my $job = $node->safe_psql('postgres',
	q{SELECT pk_keys.pk_schedule_maintenance('* * * * *', 2, delete_expired_keys => true)});
like($job, qr/^\d+$/, 'registered: returns the job id');
is($node->safe_psql('postgres',
		q{SELECT pk_keys.pk_schedule_maintenance('* * * * *', 2, delete_expired_keys => true)}),
	$job, 'registering again updates the same job');
is($node->safe_psql('postgres', q{SELECT count(*), min(jobname), min(schedule), min(command) FROM cron.job}),
	"1|pk_keys maintenance|* * * * *|SELECT * FROM pk_keys.pk_maintenance_run(2, NULL, NULL, true)",
	'one job, with the maintenance command');

ok($node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')}),
	'the job ran at the next minute');
my $details = $node->safe_psql('postgres',
	q{SELECT status || ' | ' || return_message FROM cron.job_run_details ORDER BY runid LIMIT 1});
my $log = $node->safe_psql('postgres',
	q{SELECT cardinality(actions) || ' | ' || array_to_string(actions, E'\n') FROM pk_keys.maintenance_log});
note "job_run_details: $details";
note "maintenance_log: $log";
my ($n) = $log =~ /^(\d+) \|/;
like($details, qr/^succeeded \| \d+ rows?$/, 'job_run_details: succeeded, one row per action');
is($details, "succeeded | $n rows", 'the row count there is the number of lines in maintenance_log');
like($log, qr/^created api_key_usage_p\d{6}$/m, 'partitions were created ahead');
like($log, qr/^deleted 1 expired keys$/m, 'the expired key was deleted');
like($log, qr/^pk_keys maintenance: \d+ actions in \d+ ms: created /m, 'and a summary line last');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pk_keys.api_keys'), '0', 'no key left');
like(slurp_file($node->logfile), qr/NOTICE:  pk_keys maintenance: \d+ actions/,
	'the summary is also in the server log');

# From a database without pg_cron: 55000, and the hint names schedule_in_database for it.
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION pk_keys');
($ret, $out, $err) = $node->psql('other', "SELECT pk_keys.pk_schedule_maintenance()");
like($err, qr/pg_cron is not installed in database other/, 'another database: 55000');
like($err, qr/cron\.schedule_in_database\(.*'other'\)/, 'the hint schedules it for that database');

$node->stop;
done_testing();
