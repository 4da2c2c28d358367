#!/usr/bin/env bash
# Builds everything and runs every test: unit, integration and process tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each part says when it starts, with the time so far (CI is kept within 30 minutes).
part() { echo "test.sh: [$((SECONDS / 60))m$((SECONDS % 60))s] $*"; }
part "build"
swift build --build-tests
part "tests"
# The end-to-end suite runs on its own afterwards: on two cores, its daemons and bulk
# loads would otherwise starve the timing-sensitive tests running beside them.
swift test --skip-build --skip EndToEndTests
part "end-to-end tests"
swift test --skip-build --filter EndToEndTests
part "demo, units, corpora, fuzzing, lint"
# The README's main command, walked through automatically (in a fresh demo folder).
rm -rf demo
scripts/demo.sh --self-test
rm -rf demo
# The systemd units, as installed by scripts/install.sh, pass systemd-analyze verify.
BUILD_DIR=.build/debug scripts/verify-units.sh
# Every input the fuzzers ever kept still passes (plain build), then a fixed-time fuzz
# of the JSON parser, which reads every file of a root. The control API's fuzzer needs
# a sanitizer build of the whole daemon (five minutes here): scripts/fuzz.sh 60 control.
.build/debug/accord-fuzz-json Fuzz/corpus/json/*
.build/debug/accord-fuzz-control Fuzz/corpus/control/*
scripts/fuzz.sh "${FUZZ_SECONDS:-60}" json
# The examples must stay valid and the formatting clean.
.build/debug/accordctl validate examples/records
swift format lint --strict -r Sources Tests
# The hub against its API document: no 5xx, every response as documented.
part "schemathesis"
scripts/schemathesis.sh .build/debug/accordhub config/schemas
# The hub on PostgreSQL, on a throw-away cluster: its whole suite again, two hubs on
# one database, and schemathesis.
pg=$(mktemp -d "${TMPDIR:-/tmp}/accord-pg.XXXXXX")
trap 'scripts/postgres-cluster.sh stop "$pg" >/dev/null 2>&1 || true; rm -rf "$pg"' EXIT
part "the hub on PostgreSQL"
pg_url=$(scripts/postgres-cluster.sh start "$pg")
ACCORD_TEST_POSTGRES_URL=$pg_url swift test --skip-build --filter AccordHubTests
# On their own, one after the other: one stops and starts the cluster under a hub,
# one makes a database of its own, one turns TLS on with a private CA.
for suite in PostgresRestartTests PostgresMoveTests PostgresTLSTests; do
    ACCORD_TEST_POSTGRES_URL=$pg_url ACCORD_TEST_POSTGRES_DIR=$pg swift test --skip-build --filter "$suite"
done
# The same checks with half the cases per operation: the storage differs, the API
# document and the handler do not (keeps CI within 30 minutes).
SCHEMATHESIS_DB=$pg_url SCHEMATHESIS_MAX_EXAMPLES=${SCHEMATHESIS_PG_EXAMPLES:-50} scripts/schemathesis.sh .build/debug/accordhub config/schemas
scripts/postgres-cluster.sh stop "$pg"
# The Debian package, installed into a minimal Debian 12 and booted there under
# systemd as a team would use it. Needs root. CI packages the debug build the tests
# above ran (a release build would take a second full build, about 14 minutes here),
# with the Swift runtime it loads copied into the container; `scripts/build-deb.sh`
# alone makes the release package to ship.
if [[ $EUID -eq 0 ]]; then
    part "the Debian package and the boot test"
    deb=$(CONFIGURATION=debug SKIP_BUILD=1 scripts/build-deb.sh | tail -1)
    runtime=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")/lib/swift/linux
    BOOT_TEST_SWIFT_RUNTIME=$runtime scripts/boot-test.sh "$deb"
else
    echo "test.sh: the boot test needs root (systemd-nspawn); skipped"
fi
part "done"
