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
# One set of C flags for extensions, whatever the CPython. Compiler caches key on the compiler's
# arguments, and CPythons differ here (3.11 compiles extensions with -fwrapv, 3.13 with
# -fno-strict-overflow), so without this not one object is shared between Pythons, not even the C
# libraries that packages bundle. The set below is the union of both (-fwrapv implies the other);
# a CPython with a flag outside it stops the image build rather than lose the flag.
"$prefix/bin/python3" - <<'PY'
import importlib.util, pprint, sysconfig
UNIFORM = {'BASECFLAGS': '-fno-strict-overflow -Wsign-compare', 'OPT': '-DNDEBUG -g -fwrapv -O3 -Wall'}
UNIFORM['CFLAGS'] = UNIFORM['BASECFLAGS'] + ' ' + UNIFORM['OPT']
path = importlib.util.find_spec(sysconfig._get_sysconfigdata_name()).origin
scope = {}
exec(open(path).read(), scope)
data = scope['build_time_vars']
for name, value in UNIFORM.items():
    extra = set(data[name].split()) - set(value.split())
    if extra:
        raise SystemExit(f'build-cpython.sh: {name} of this CPython has {sorted(extra)}, which the uniform '
                         f'extension flags lack; add them to UNIFORM in images/build/build-cpython.sh')
    data[name] = value
with open(path, 'w') as out:
    out.write('# system configuration generated and used by the sysconfig module\n'
              '# (extension C flags made uniform across CPythons by wheelfarm: build-cpython.sh)\n')
    out.write('build_time_vars = ')
    pprint.pprint(data, stream=out)
PY
find "$prefix" -depth -name __pycache__ -type d -exec rm -rf {} +
rm -rf "$prefix/lib/python3."*/test "$src" /tmp/*.log
