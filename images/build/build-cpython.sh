#!/bin/sh
# Build one CPython from its release tarball into PREFIX (no PGO: a build image, not a benchmark).
# usage: build-cpython.sh TARBALL PREFIX
set -eu
tarball=$1 prefix=$2
src=$(mktemp -d)
tar -xf "$tarball" -C "$src" --strip-components=1
cd "$src"
./configure --prefix="$prefix" --with-ensurepip=install --disable-test-modules >/tmp/configure.log 2>&1 \
  || { tail -n 50 /tmp/configure.log; exit 1; }
make -j"$(nproc)" >/tmp/make.log 2>&1 || { tail -n 80 /tmp/make.log; exit 1; }
make install >/tmp/install.log 2>&1 || { tail -n 50 /tmp/install.log; exit 1; }
# Modules a wheel build or test needs must have been built; fail loudly here rather than later.
"$prefix/bin/python3" -c 'import ssl, zlib, bz2, lzma, ctypes, sqlite3, uuid, venv, ensurepip'
ln -sf python3 "$prefix/bin/python"
find "$prefix" -depth -name __pycache__ -type d -exec rm -rf {} +
rm -rf "$prefix/lib/python3."*/test "$src" /tmp/*.log
