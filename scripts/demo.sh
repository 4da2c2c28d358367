#!/usr/bin/env bash
# The main job, as far as it goes today: build accordctl, check the example records
# against the schemas, and show the field-level diff between two versions of the
# FY2021 Host Nation Support agreement.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product accordctl
ctl=.build/debug/accordctl
echo "== accordctl validate examples/records"
$ctl validate examples/records
echo
echo "== accordctl diff (the agreement before and after the extension was reported)"
$ctl diff examples/versions/us-japan-hns-fy2021.before.json examples/records/agreements/us-japan-hns-fy2021.json || [ $? -eq 1 ]
