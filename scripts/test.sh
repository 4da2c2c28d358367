#!/usr/bin/env bash
# Builds everything and runs every test: unit, integration and process tests.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build
# The examples must stay valid and the formatting clean.
.build/debug/accordctl validate examples/records
swift format lint --strict -r Sources Tests
# The hub against its API document: no 5xx, every response as documented.
scripts/schemathesis.sh .build/debug/accordhub config/schemas
