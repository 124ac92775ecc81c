"""Smoke test of an installed environment: imports the app and checks every native package's answer.

Run with the environment's Python from this folder (`python smoke.py`); needs no network and no
server (Flask's test client). Prints the JSON and exits non-zero when anything is off.
"""

import json
import sys

from app import app


def check(body: dict) -> list[str]:
    problems = []
    if body["markupsafe"]["escaped"] != "&lt;b&gt;wheelfarm&lt;/b&gt; &amp; co":
        problems.append(f"markupsafe escaped {body['markupsafe']['escaped']!r}")
    if body["markupsafe"]["speedups"] is not True:
        problems.append("markupsafe runs without its C speedups")
    if not (body["yaml"]["libyaml"] and body["yaml"]["round_trip"]):
        problems.append(f"PyYAML without libyaml or a failed round trip: {body['yaml']}")
    if body["cffi"]["abs"] != 42:
        problems.append(f"cffi abs(-42) gave {body['cffi']['abs']}")
    if not body["psycopg2"]["libpq"] >= 90000:
        problems.append(f"psycopg2's libpq version is {body['psycopg2']['libpq']}")
    return problems


if __name__ == "__main__":
    response = app.test_client().get("/")
    body = response.get_json()
    print(json.dumps(body, sort_keys=True))
    problems = [f"HTTP {response.status_code}"] if response.status_code != 200 else check(body)
    for problem in problems:
        print("smoke:", problem, file=sys.stderr)
    print("smoke: ok" if not problems else "smoke: FAILED")
    sys.exit(1 if problems else 0)
