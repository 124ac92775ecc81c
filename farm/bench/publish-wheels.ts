// Publishes N generated wheels to one index target and prints the time and peak memory.
// Used by scripts/bench-publish.sh; run as: node farm/bench/publish-wheels.ts TARGET WHEEL_DIR [CONCURRENCY]
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { createPublisher } from '../src/index/create-publisher.ts';
import { parseIndexTarget } from '../src/index/parse-index-target.ts';
import { parseWheelFilename } from '../src/wheels/wheel-filename.ts';

const [target, dir, concurrency = '4'] = process.argv.slice(2);
if (!target || !dir) throw new Error('usage: publish-wheels.ts TARGET WHEEL_DIR [CONCURRENCY]');
const publisher = createPublisher(parseIndexTarget(target));
const files = (await readdir(dir)).filter((f) => f.endsWith('.whl'));
const sha = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => hash.update(c))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
let peakRss = 0;
const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
const queue = new PQueue({ concurrency: Number(concurrency) });
const started = performance.now();
await Promise.all(
  files.map((filename) =>
    queue.add(async () => {
      const path = join(dir, filename);
      await publisher.publish({ path, filename, sha256: await sha(path), project: parseWheelFilename(filename).name });
    }),
  ),
);
const seconds = (performance.now() - started) / 1000;
clearInterval(timer);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
console.log(
  `${files.length} wheels to ${publisher.description.split(' (')[0]}: ${seconds.toFixed(1)} s (${(files.length / seconds).toFixed(1)} wheels/s, concurrency ${concurrency}), peak RSS ${(peakRss / 1024 ** 2).toFixed(0)} MB`,
);
