# Full keys never reach the server log. Every error path below is called with
# a literal full key in the statement; afterwards the whole server log is
# grepped for the key format: 0 full keys.
#   node "plain": default settings, no preload. Errors that pk_keys raises
#     (C and PL/pgSQL), each in a fresh session, hide the statement; so do
#     PostgreSQL's own errors once the session has loaded pk_keys.so. A
#     control statement then shows the grep does see a key that PostgreSQL
#     logs before the library is loaded in a fresh session.
#   node "preload": session_preload_libraries = 'pk_keys, auto_explain',
#     log_statement = 'all', log_min_duration_statement = 0 and auto_explain
#     on every statement: every path in a fresh session, plus successful
#     calls; the statement, duration and plan lines are all redacted.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $KEY_RE = qr/pk_(?:live|test)_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]/;

# Every error path: [kind, statement template] where KEY stands for a full
# key and ORG for an organization id. Kind 'c': the error is raised by
# pk_keys' C code or after pk_keys.so is loaded by the call itself, so even a
# fresh session without preload hides the statement; 'o': raised by
# PostgreSQL or by PL/pgSQL before any pk_keys C function ran.
my @paths = (
	# raised by pk_keys
	['c', q|SELECT * FROM pk_keys.pk_authenticate('KEY', '{}', -1)|],
	['c', q|SELECT * FROM pk_keys.pk_authenticate('KEY', '{read}', -2147483648)|],
	['c', q|SELECT * FROM pk_keys.pk_key_get_by_hash('KEY')|],
	['o', q|SELECT * FROM pk_keys.pk_org_update('ORG', '{"KEY": 1}')|],
	['o', q|SELECT * FROM pk_keys.pk_org_update('ORG', '{"slug": "KEY"}')|],
	['o', q|SELECT * FROM pk_keys.pk_org_update('ORG', '{"plan": "KEY"}')|],
	['o', q|SELECT * FROM pk_keys.pk_org_update('ORG', '{"email": "KEY"}')|],
	['o', q|SELECT * FROM pk_keys.pk_org_update('ORG', '{"name": null, "x": "KEY"}')|],
	['o', q|SELECT * FROM pk_keys.pk_org_create('KEY', 'KEY')|],
	['o', q|SELECT * FROM pk_keys.pk_org_create('n', 'n@example.com', 'KEY')|],
	['o', q|SELECT * FROM pk_keys.pk_org_create('n', 'n@example.com', 'free', 'KEY')|],
	['o', q|SELECT * FROM pk_keys.pk_org_create(NULL, 'KEY')|],
	['o', q|SELECT * FROM pk_keys.pk_key_create('ORG', 'KEY', 'KEY')|],
	['o', q|SELECT * FROM pk_keys.pk_key_create('ORG', 'KEY', remaining => -1)|],
	['o', q|SELECT * FROM pk_keys.pk_key_create(NULL, 'KEY')|],
	['c', q|SELECT * FROM pk_keys.pk_generate_key('KEY')|],
	['c', q|SELECT * FROM pk_keys.pk_rate_limit_check(NULL, 1, '1 minute', 1), pk_keys.pk_hash_key('KEY')|],
	['c', q|SELECT * FROM pk_keys.pk_rate_limit_check('00000000-0000-0000-0000-000000000000', -1), pk_keys.pk_hash_key('KEY')|],
	['o', q|SELECT * FROM pk_keys.pk_key_revoke(NULL, 'KEY', NULL)|],
	['o', q|SELECT * FROM pk_keys.pk_key_revoke('00000000-0000-0000-0000-000000000000', 'KEY', NULL)|],
	['o', q|SELECT * FROM pk_keys.pk_usage_create(NULL, 'KEY')|],
	['c', q|SELECT * FROM pk_keys.pk_usage_get_daily_stats('ORG', '2020-02-01', '2020-01-01'), pk_keys.pk_hash_key('KEY')|],
	# raised by PostgreSQL itself, in a statement that carries a key
	['o', q|SELECT * FROM pk_keys.pk_authenticate('KEY', '{read')|],
	['o', q|SELECT * FROM pk_keys.pk_authenticate('KEY', '{}', NULL::text::integer + 'x')|],
	['o', q|SELECT * FROM pk_keys.pk_key_revoke('KEY', 'leak', NULL)|],
	['o', q|SELECT * FROM pk_keys.pk_usage_create('KEY', '/x')|],
	['o', q|SELECT * FROM pk_keys.pk_org_update('ORG', '{"KEY"')|],
	['o', q|SELECT * FROM pk_keys.pk_key_create('ORG', metadata => '{"k": "KEY"')|],
	['o', q|SELECT 'KEY'::integer|],
	['o', q|SELECT pk_keys.pk_hash_key('KEY'), 1 / 0|],
	['o', q|SELECT * FROM pk_keys.pk_authenticate('KEY'), pk_keys.no_such_function()|],
	['o', q|SELECT * FROM pk_keys.pk_authenticate('KEY', '{}', 99999999999)|],
	['o', q|DO $$ BEGIN RAISE EXCEPTION 'leaked %', 'KEY'; END $$|],
	['o', q|DO $$ BEGIN PERFORM pk_keys.pk_key_get_by_hash('KEY'); END $$|],
);

# A fresh node with one organization and one key; returns (node, org, key).
sub make_node {
	my ($name, $conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', $conf);
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pk_keys');
	my $org = $node->safe_psql('postgres',
		q{SELECT id FROM pk_keys.pk_org_create('Logs', 'logs@example.com')});
	my $key = $node->safe_psql('postgres',
		"SELECT full_key FROM pk_keys.pk_key_create('$org', 'k', 'test')");
	like($key, qr/^$KEY_RE$/, "$name: a real key to leak");
	return ($node, $org, $key);
}

# Runs the paths of the given kinds, each in a fresh session (after $warm,
# if given); each must fail. Returns how many ran.
sub run_paths {
	my ($node, $org, $key, $kinds, $warm) = @_;
	my $failed = 0;
	my @run = grep { index($kinds, $_->[0]) >= 0 } @paths;
	for my $p (@run) {
		my $t = $p->[1];
		(my $sql = $t) =~ s/KEY/$key/g;
		$sql =~ s/ORG/$org/g;
		my ($ret, $out, $err) = $node->psql('postgres', ($warm // '') . "$sql;\n");
		$failed++ if $err =~ /ERROR:/;
		# psql echoes the client's own statement on LINE lines; the rest came
		# from the server.
		my $server = join("\n", grep { !/^(LINE \d+:|\s*\^)/ } split /\n/, $err);
		unlike($server, $KEY_RE, "no key in the error the client gets: $t")
		  if $t !~ /RAISE EXCEPTION/ && $kinds ne 'o';
	}
	is($failed, scalar(@run), 'every path raised an ERROR');
	return scalar(@run);
}

# (full keys, lines, ERROR lines) in the node's log so far.
sub grep_log {
	my ($node) = @_;
	my $log = slurp_file($node->logfile);
	my @lines = split /\n/, $log;
	my $keys = () = $log =~ /$KEY_RE/g;
	my $errors = grep { /ERROR:/ } @lines;
	return ($keys, scalar(@lines), $errors);
}

# A first statement that loads pk_keys.so in the session.
my $warm = "SELECT pk_keys.pk_validate_key_format('');\n";

my ($plain, $org, $key) = make_node('plain', "log_statement = 'none'");
my $ran = run_paths($plain, $org, $key, 'c');
$ran += run_paths($plain, $org, $key, 'co', $warm);
my ($keys, $lines, $errors) = grep_log($plain);
is($keys, 0, "plain: 0 full keys in $lines log lines");
cmp_ok($errors, '>=', $ran, "plain: the $errors ERROR lines were logged");
note("plain: $ran error paths exercised, $lines log lines grepped, $keys full keys");
# Control: in a fresh session that has not loaded pk_keys.so, PostgreSQL and
# PL/pgSQL log the statement as it is (README: preload pk_keys, or pass the
# key as a parameter). The grep does see those keys.
my $unguarded = run_paths($plain, $org, $key, 'o');
my ($leaked) = grep_log($plain);
cmp_ok($leaked, '>', 0, 'control: the grep sees keys logged before pk_keys.so is loaded');
note("plain, fresh sessions without preload: $leaked full keys from $unguarded 'o' paths");
$plain->stop;

my ($pre, $org2, $key2) = make_node('preload', join("\n",
	"session_preload_libraries = 'pk_keys, auto_explain'",
	"log_statement = 'all'", "log_min_duration_statement = 0",
	"auto_explain.log_min_duration = 0", "auto_explain.log_nested_statements = on",
	"log_parameter_max_length = -1", "log_parameter_max_length_on_error = -1"));
my $ran2 = run_paths($pre, $org2, $key2, 'co');
# Successful calls are logged too (statement, duration, plan): redacted.
$pre->safe_psql('postgres', "SELECT code FROM pk_keys.pk_authenticate('$key2')");
$pre->safe_psql('postgres', "SELECT pk_keys.pk_verify_key('$key2', pk_keys.pk_hash_key('$key2'))");
my ($keys2, $lines2, $errors2) = grep_log($pre);
is($keys2, 0, "preload: 0 full keys in $lines2 log lines");
cmp_ok($errors2, '>=', $ran2, "preload: the $errors2 ERROR lines were logged");
my $log = slurp_file($pre->logfile);
like($log, qr/statement: SELECT code FROM pk_keys\.pk_authenticate\('pk_test_\[redacted\]'\)/,
	'preload: log_statement line present, key redacted');
like($log, qr/Query Text: .*pk_test_\[redacted\]/, 'preload: auto_explain plan present, key redacted');
note("preload: $ran2 error paths exercised, $lines2 log lines grepped, $keys2 full keys");
$pre->stop;

done_testing();
