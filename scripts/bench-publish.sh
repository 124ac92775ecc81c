#!/usr/bin/env bash
# Time to publish 1,000 wheels (10 projects x 100 versions, small real wheels with METADATA) to the
# directory index and to S3 (moto's server on loopback, or WHEELFARM_BENCH_S3_ENDPOINT), each from
# a fresh index.   scripts/bench-publish.sh [COUNT] [CONCURRENCY]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
count=${1:-1000} concurrency=${2:-4}
bash "$ROOT/scripts/setup.sh" --quiet --no-docker
# shellcheck disable=SC1091
source "$ROOT/.tools/env"
work=$(mktemp -d)
# Stop the S3 server before removing the folder that holds its pid file.
cleanup() {
  if [[ -n "${moto_state:-}" ]]; then MOTO_STATE_DIR=$moto_state bash "$ROOT/scripts/start-moto.sh" stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/wheels"
python3 - "$work/wheels" "$count" <<'PY'
import base64, hashlib, sys, zipfile
out, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    name, version = f"benchpkg{i % 10}", f"1.{i // 10}"
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VALUE = {i}\n" + "# padding\n" * 200,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Python: >=3.9\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).rstrip(b'=').decode()},{len(c)}\n" for p, c in files.items())
    with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
        for p, c in files.items(): z.writestr(p, c)
        z.writestr(f"{dist}/RECORD", record + f"{dist}/RECORD,,\n")
PY
cd "$ROOT"
node --disable-warning=ExperimentalWarning farm/bench/publish-wheels.ts "$work/index" "$work/wheels" "$concurrency"
if [[ -n "${WHEELFARM_BENCH_S3_ENDPOINT:-}" ]]; then
  endpoint=$WHEELFARM_BENCH_S3_ENDPOINT
else
  moto_state="$work/moto"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  endpoint=$(MOTO_PORT=$port MOTO_STATE_DIR=$moto_state bash scripts/start-moto.sh | tail -1)
fi
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-bench} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-bench} AWS_REGION=${AWS_REGION:-us-east-1}
(cd farm && node --disable-warning=ExperimentalWarning --input-type=module -e "
  const { createIndexBucket, makeS3Client } = await import('./src/index/s3/s3-bucket-admin.ts');
  await createIndexBucket(makeS3Client({ endpoint: '$endpoint', region: 'us-east-1' }), 'bench');
")
node --disable-warning=ExperimentalWarning farm/bench/publish-wheels.ts "s3://bench/farm?endpoint=$endpoint&region=us-east-1" "$work/wheels" "$concurrency"
