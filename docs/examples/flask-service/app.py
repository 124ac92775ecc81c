"""A small Flask service whose one endpoint exercises every native package the farm built for it.

GET / answers JSON: markupsafe escaping through its C speedups, a PyYAML round trip through the
libyaml loader and dumper, cffi calling the C library's abs() through libffi, and the version of the
libpq that psycopg2 carries. Served by werkzeug (a dependency of Flask: nothing extra to install).
"""

import os
from importlib.metadata import version

import cffi
import flask
import markupsafe
import markupsafe._speedups
import psycopg2
import psycopg2.extensions
import yaml
from werkzeug.serving import run_simple

app = flask.Flask(__name__)

_ffi = cffi.FFI()
_ffi.cdef("int abs(int);")
_libc = _ffi.dlopen(None)  # the C library already loaded in the process


def report(text: str = "<b>wheelfarm</b> & co") -> dict:
    document = {"service": "flask-service", "items": [1, 2.5, {"nested": True}]}
    dumped = yaml.dump(document, Dumper=yaml.CSafeDumper)
    return {
        "markupsafe": {
            "escaped": str(markupsafe.escape(text)),
            # markupsafe falls back to pure Python silently when its C extension is missing.
            "speedups": markupsafe._escape_inner is markupsafe._speedups._escape_inner,
        },
        "yaml": {
            "libyaml": yaml.__with_libyaml__,
            "version": yaml._yaml.get_version_string(),
            "round_trip": yaml.load(dumped, Loader=yaml.CSafeLoader) == document,
        },
        "cffi": {"version": cffi.__version__, "abs": _libc.abs(-42)},
        "psycopg2": {"version": psycopg2.__version__, "libpq": psycopg2.extensions.libpq_version()},
        "versions": {name: version(name) for name in ("flask", "werkzeug", "requests")},
    }


@app.get("/")
def index():
    return flask.jsonify(report(flask.request.args.get("text", "<b>wheelfarm</b> & co")))


if __name__ == "__main__":
    run_simple(os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8000")), app)
