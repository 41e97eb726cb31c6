# kill -9 rounds under a mixed load: three clients authenticate keys with
# credits, one logs usage, one revokes keys, while the postmaster is killed
# with SIGKILL; three rounds without and three with the library preloaded.
# After each restart: every acknowledged usage row and revocation is there,
# no credit an acknowledged call spent came back (and at most one call per
# client that was in flight spent more), and request_count lost at most the
# calls acknowledged within one flush interval (+ one interval of slack for
# the flusher's own work on this shared machine) before the kill when
# preloaded, none when not.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Time::HiRes qw(time usleep);
use Test::More;

my $KEYS = 6;           # keys with credits, two per authenticating client
my $CREDITS = 100000;
my $INTERVAL_MS = 300;  # pk_keys.flush_interval when preloaded

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $scripts = 0;

# Starts psql on a script; each result line is "<epoch of receipt> <line>".
sub client {
	my ($node, $sql) = @_;
	my $file = "$tmp/script" . ++$scripts . '.sql';
	open(my $fh, '>', $file) or die "$file: $!";
	print $fh $sql;
	close $fh;
	my ($out, $partial) = ('', '');
	# A line may arrive in two chunks: stamp each line when it is complete.
	my $receive = sub {
		my $t = time;
		$partial .= $_[0];
		while ($partial =~ s/^([^\n]*)\n//) { $out .= "$t $1\n"; }
	};
	my $h = IPC::Run::start(['psql', '-X', '-q', '-At', '-d', $node->connstr('postgres'), '-f', $file],
		'<', \undef, '>', $receive, '2>', \my $err);
	return [$h, \$out];
}

sub rounds {
	my ($name, $conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "log_statement = 'none'\n$conf");
	$node->start;
	$node->safe_psql('postgres', qq{
		CREATE EXTENSION pk_keys;
		CREATE TABLE k AS SELECT i, key.id, key.full_key
		FROM pk_keys.pk_org_create('Crash', 'crash\@example.com', 'enterprise') o,
		     generate_series(1, $KEYS) i,
		     LATERAL pk_keys.pk_key_create(o.id, 'k' || i, remaining => $CREDITS) key;
		CREATE TABLE victims AS SELECT key.id FROM pk_keys.pk_org_get_by_slug('crash') o,
		     generate_series(1, 300) i, LATERAL pk_keys.pk_key_create(o.id, 'v' || i) key;});
	my @keys = map { [split /\|/] } split /\n/, $node->safe_psql('postgres', 'SELECT i, id, full_key FROM k ORDER BY i');
	my @victims = split /\n/, $node->safe_psql('postgres', 'SELECT id FROM victims ORDER BY id');
	my %usage_ids;  # acknowledged usage rows (all rounds)
	my %revoked;    # acknowledged revocations (all rounds)
	my $preloaded = $conf =~ /shared_preload_libraries/;
	my $state_sql = 'SELECT id, remaining, request_count FROM pk_keys.api_keys WHERE id IN (SELECT id FROM k)';
	for my $round (1 .. 3) {
		my %base = map { my ($id, $rem, $cnt) = split /\|/; ($id => [$rem, $cnt]) }
		  split /\n/, $node->safe_psql('postgres', $state_sql);
		my @c;
		for my $c (0 .. 2) {
			my $sql = '';
			for my $n (1 .. 4000) {
				my $key = $keys[2 * $c + $n % 2];
				$sql .= "SELECT '$key->[1]', code FROM pk_keys.pk_authenticate('$key->[2]', '{}', 1);\n";
			}
			push @c, client($node, $sql);
		}
		my $usage = '';
		$usage .= "SELECT id FROM pk_keys.pk_usage_create('$keys[$_ % $KEYS][1]', '/r$round/$_', 'GET', 200, 5);\n"
		  for 1 .. 4000;
		my $u = client($node, $usage);
		my $revoke = '';
		$revoke .= "SELECT '$_', pk_keys.pk_key_revoke('$_', 'round $round', NULL);\nSELECT pg_sleep(0.01);\n"
		  for @victims[(100 * ($round - 1)) .. (100 * $round - 1)];
		my $r = client($node, $revoke);
		# Let the load run 1.5-2.5 s, reading the clients' output as it comes
		# (so each acknowledgement is stamped when it arrives).
		my $end = time + 1.5 + rand(1.0);
		while (time < $end) {
			eval { $_->[0]->pump_nb if $_->[0]->pumpable } for @c, $u, $r;
			usleep(5_000);
		}
		eval { $_->[0]->pump_nb if $_->[0]->pumpable } for @c, $u, $r;
		my $killed_at = time;
		$node->kill9;
		$_->[0]->finish for @c, $u, $r;
		# The killed postmaster's children leave within moments; start again
		# once they have (crash recovery then runs).
		for my $try (1 .. 30) {
			last if $node->start(fail_ok => 1);
			$node->{_pid} = undef;    # the failed start read the stale pid file
			usleep(500_000);
		}

		my (%valid, @valid_at);
		for my $cl (@c) {
			for (split /\n/, ${ $cl->[1] }) {
				my ($t, $id, $code) = /^(\S+) ([^|]+)\|(\w+)$/ or next;
				next unless $code eq 'VALID';
				$valid{$id}++;
				push @valid_at, $t;
			}
		}
		$usage_ids{$1} = 1 while ${ $u->[1] } =~ /^\S+ (\d+)$/mg;
		for (split /\n/, ${ $r->[1] }) {
			$revoked{$1} = 1 if /^\S+ ([0-9a-f-]{36})\|t$/;
		}
		my $acked_valid = @valid_at;
		note("$name round $round: $acked_valid VALID calls, " . scalar(keys %usage_ids) . " usage rows, "
			  . scalar(keys %revoked) . " revocations acknowledged");
		cmp_ok($acked_valid, '>', 0, "$name round $round: the load ran before the kill");

		my %now = map { my ($id, $rem, $cnt) = split /\|/; ($id => [$rem, $cnt]) }
		  split /\n/, $node->safe_psql('postgres', $state_sql);
		my ($credit_bad, $lost) = (0, 0);
		for my $key (@keys) {
			my $id = $key->[1];
			my $spent = $base{$id}[0] - $now{$id}[0];
			my $acked = $valid{$id} // 0;
			# Each key has one client: at most one committed call was in flight.
			if ($spent < $acked || $spent > $acked + 1) {
				$credit_bad++;
				diag("key $id: $acked VALID acknowledged, $spent credits spent");
			}
			my $missing = $base{$id}[1] + $acked - $now{$id}[1];
			$lost += $missing if $missing > 0;
		}
		is($credit_bad, 0, "$name round $round: no acknowledged spend lost, none spent twice");
		my $window = $preloaded ? 2 * $INTERVAL_MS / 1000 : 0;
		my $bound = $preloaded ? grep { $_ >= $killed_at - $window } @valid_at : 0;
		cmp_ok($lost, '<=', $bound, "$name round $round: request_count lost $lost <= $bound calls "
			  . "acknowledged in the last " . ($window * 1000) . " ms");
		my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM pk_keys.api_key_usage WHERE id = ANY($${'
			  . join(',', keys %usage_ids) . '}$$::bigint[])');
		is($rows, scalar(keys %usage_ids), "$name round $round: every acknowledged usage row is there");
		my $rev = $node->safe_psql('postgres', 'SELECT count(*) FROM pk_keys.api_keys WHERE revoked_at IS NOT NULL AND id = ANY($${'
			  . join(',', keys %revoked) . '}$$::uuid[])');
		is($rev, scalar(keys %revoked), "$name round $round: every acknowledged revocation is there");
	}
	$node->stop;
}

rounds('plain', '');
rounds('preload', "shared_preload_libraries = 'pk_keys'\npk_keys.flush_interval = $INTERVAL_MS");
done_testing();
