#!/usr/bin/env python3
"""Seeds a hub with COUNT agreements (seed-1 ... seed-COUNT) for the benchmarks.

    Benchmarks/seed.py URL COUNT      (http:// or https://, certificate not checked)
"""
import http.client
import json
import ssl
import sys
import urllib.parse

url, count = urllib.parse.urlparse(sys.argv[1]), int(sys.argv[2])
if url.scheme == "https":
    connection = http.client.HTTPSConnection(url.hostname, url.port, context=ssl._create_unverified_context())
else:
    connection = http.client.HTTPConnection(url.hostname, url.port)
body = json.dumps({"title": "HNS benchmark", "parties": ["United States", "Japan"], "status": "negotiating",
                   "value": {"amount": 1910000000, "currency": "USD"}, "fiscal_year": 2021,
                   "covers": ["utilities", "labor", "training"]})
for i in range(1, count + 1):
    connection.request("PUT", f"/v1/records/agreement/seed-{i}", body, {"If-None-Match": "*"})
    response = connection.getresponse()
    response.read()
    if response.status != 201:
        sys.exit(f"seed.py: seeding seed-{i} gave {response.status}")
