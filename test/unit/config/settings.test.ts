import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';
import { loadSettings } from '../../../farm/src/config/settings.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wheelfarm-settings-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<UserInputError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(UserInputError);
  return error as UserInputError;
}

function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((line) => line.includes(needle)) + 1;
}

describe('loadSettings', () => {
  it('without a settings file: every default, relative to the root', async () => {
    const settings = await loadSettings({ root, env: {} });
    expect(settings).toEqual({
      root,
      settingsFile: undefined,
      home: join(root, '.wheelfarm'),
      indexDir: join(root, '.wheelfarm', 'index'),
      indexUrl: undefined,
      imagesDir: join(root, 'images'),
      recipesDir: join(root, 'recipes'),
      rust: { source: 'auto', hostToolchain: undefined, rustupInitUrl: undefined },
      upstreamIndexUrl: undefined,
      debianMirror: undefined,
      containerMemory: '8g',
      containerCpus: undefined,
      containerPids: 4096,
      stepTimeoutSeconds: 3 * 3600,
      engineWaitSeconds: 120,
      trustHostCa: 'auto',
      jobs: 2,
      recordsUrl: undefined,
      hosts: undefined,
      matrix: { pythons: undefined, latest: 1, prereleases: false, retry: { afterSeconds: 6 * 3600, maxSeconds: 7 * 86_400 } },
      schedule: [],
      closurePure: 'mirror',
      applications: [],
    });
  });

  it('WHEELFARM_RECIPES_DIR and WHEELFARM_RUST_SOURCE override; a bad rust source is named', async () => {
    const settings = await loadSettings({ root, env: { WHEELFARM_RECIPES_DIR: '/tmp/r', WHEELFARM_RUST_SOURCE: 'host' } });
    expect(settings.recipesDir).toBe('/tmp/r');
    expect(settings.rust.source).toBe('host');
    await expect(loadSettings({ root, env: { WHEELFARM_RUST_SOURCE: 'cargo' } })).rejects.toThrow(
      /WHEELFARM_RUST_SOURCE is `cargo`; expected auto, host or rustup/,
    );
    expect((await rejection(loadSettings({ root, env: { WHEELFARM_RUST_SOURCE: 'cargo' } }))).code).toBe('bad-environment');
  });

  it('index.url must be an index URL; the error names the file, line and field', async () => {
    await writeFile(join(root, 'wheelfarm.yaml'), 'index:\n  url: /srv/not-a-url\n');
    await expect(loadSettings({ root, env: {} })).rejects.toThrow(
      /wheelfarm\.yaml:2: `index\.url`: expected an index URL like `s3:\/\/bucket\/prefix`/,
    );
    expect((await rejection(loadSettings({ root, env: {} }))).code).toBe('bad-settings-file');
  });

  it('does not read process.env when env is given', async () => {
    const settings = await loadSettings({ root, env: {} });
    expect(settings.home).toBe(join(root, '.wheelfarm'));
    expect(settings.upstreamIndexUrl).toBeUndefined();
  });

  it('an empty wheelfarm.yaml gives the defaults', async () => {
    await writeFile(join(root, 'wheelfarm.yaml'), '# nothing here\n');
    const settings = await loadSettings({ root, env: {} });
    expect(settings.settingsFile).toBe(join(root, 'wheelfarm.yaml'));
    expect(settings.home).toBe(join(root, '.wheelfarm'));
    expect(settings.jobs).toBe(2);
    expect(settings.containerMemory).toBe('8g');
    expect(settings.trustHostCa).toBe('auto');
  });

  it('reads every field from wheelfarm.yaml at the root', async () => {
    await writeFile(
      join(root, 'wheelfarm.yaml'),
      [
        'home: /srv/farm-home',
        'upstream:',
        '  index-url: https://pypi.example/simple/',
        'index:',
        '  dir: /srv/wheels',
        '  url: s3://wheels/farm?endpoint=http://127.0.0.1:9000',
        'images:',
        '  definitions: /srv/image-defs',
        '  debian-mirror: http://mirror.example/debian/',
        'recipes:',
        '  dir: /srv/recipes',
        'toolchains:',
        '  rust:',
        '    source: rustup',
        '    host-toolchain: /opt/rust-tc',
        '    rustup-init-url: https://mirror.example/rustup-init',
        'containers:',
        '  memory: 512m',
        '  trust-host-ca: false',
        '  cpus: 1.5',
        '  pids: 512',
        '  timeout: 90m',
        '  engine-wait: 45s',
        'jobs: 7',
        'records:',
        '  url: postgres://farm:secret@db.example/wheelfarm',
        'hosts:',
        '  - name: local',
        '    docker: unix:///var/run/docker.sock',
        '    slots: 2',
        '  - name: remote-1',
        '    docker: tcp://builder.example:2376',
        '    tls: { ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem }',
        '    slots: 4',
        '    memory: 16g',
        'matrix:',
        '  pythons: ["3.11", "3.13"]',
        '  latest: 3',
        '  prereleases: true',
        '  retry: { after: 30m, max: 2d }',
        'schedule:',
        '  - name: nightly',
        '    cron: "0 2 * * *"',
        '    run: matrix',
        '  - name: hourly',
        '    cron: "0 * * * *"',
        '    run: new-releases',
        '    timezone: Europe/Berlin',
        'closure:',
        '  pure: build',
        'applications:',
        '  - name: billing-api',
        '    requirements: apps/billing/requirements.txt',
        '    pythons: ["3.13"]',
        '  - name: reports',
        '    lock: https://git.example/reports/pylock.toml',
        '',
      ].join('\n'),
    );
    const settings = await loadSettings({ root, env: {} });
    expect(settings).toEqual({
      root,
      settingsFile: join(root, 'wheelfarm.yaml'),
      home: '/srv/farm-home',
      indexDir: '/srv/wheels',
      indexUrl: 's3://wheels/farm?endpoint=http://127.0.0.1:9000',
      imagesDir: '/srv/image-defs',
      recipesDir: '/srv/recipes',
      rust: { source: 'rustup', hostToolchain: '/opt/rust-tc', rustupInitUrl: 'https://mirror.example/rustup-init' },
      upstreamIndexUrl: 'https://pypi.example/simple/',
      debianMirror: 'http://mirror.example/debian/',
      containerMemory: '512m',
      containerCpus: 1.5,
      containerPids: 512,
      stepTimeoutSeconds: 90 * 60,
      engineWaitSeconds: 45,
      trustHostCa: false,
      jobs: 7,
      recordsUrl: 'postgres://farm:secret@db.example/wheelfarm',
      hosts: [
        { name: 'local', docker: 'unix:///var/run/docker.sock', slots: 2 },
        {
          name: 'remote-1',
          docker: 'tcp://builder.example:2376',
          tls: { ca: join(root, 'certs/ca.pem'), cert: join(root, 'certs/cert.pem'), key: join(root, 'certs/key.pem') },
          slots: 4,
          memory: '16g',
        },
      ],
      matrix: { pythons: ['3.11', '3.13'], latest: 3, prereleases: true, retry: { afterSeconds: 1800, maxSeconds: 2 * 86_400 } },
      schedule: [
        { name: 'nightly', cron: '0 2 * * *', run: 'matrix' },
        { name: 'hourly', cron: '0 * * * *', run: 'new-releases', timezone: 'Europe/Berlin' },
      ],
      closurePure: 'build',
      applications: [
        { name: 'billing-api', kind: 'requirements', source: join(root, 'apps/billing/requirements.txt'), pythons: ['3.13'] },
        { name: 'reports', kind: 'lock', source: 'https://git.example/reports/pylock.toml', pythons: undefined },
      ],
    });
  });

  it('the index follows a configured home unless set itself', async () => {
    await writeFile(join(root, 'wheelfarm.yaml'), 'home: /srv/farm-home\n');
    const settings = await loadSettings({ root, env: {} });
    expect(settings.home).toBe('/srv/farm-home');
    expect(settings.indexDir).toBe('/srv/farm-home/index');
  });

  it('keeps container defaults for fields not given', async () => {
    await writeFile(join(root, 'wheelfarm.yaml'), 'containers:\n  memory: 4g\n');
    const settings = await loadSettings({ root, env: {} });
    expect(settings.containerMemory).toBe('4g');
    expect(settings.trustHostCa).toBe('auto');
  });

  it('trust-host-ca may be a path', async () => {
    await writeFile(join(root, 'wheelfarm.yaml'), 'containers:\n  trust-host-ca: /etc/corp/ca.pem\n');
    expect((await loadSettings({ root, env: {} })).trustHostCa).toBe('/etc/corp/ca.pem');
  });

  it("resolves relative paths against the settings file's folder", async () => {
    const configDir = join(root, 'conf');
    await mkdir(configDir);
    const file = join(configDir, 'farm.yaml');
    await writeFile(file, 'home: state\nindex:\n  dir: ../public/wheels\nimages:\n  definitions: my-images\n');
    const settings = await loadSettings({ root, file, env: {} });
    expect(settings.settingsFile).toBe(file);
    expect(settings.home).toBe(join(configDir, 'state'));
    expect(settings.indexDir).toBe(join(root, 'public', 'wheels'));
    expect(settings.imagesDir).toBe(join(configDir, 'my-images'));
  });

  it('relative paths in <root>/wheelfarm.yaml resolve against the root', async () => {
    await writeFile(join(root, 'wheelfarm.yaml'), 'home: var/farm\n');
    const settings = await loadSettings({ root, env: {} });
    expect(settings.home).toBe(join(root, 'var', 'farm'));
    expect(settings.indexDir).toBe(join(root, 'var', 'farm', 'index'));
    expect(settings.imagesDir).toBe(join(root, 'images'));
  });

  it('WHEELFARM_CONFIG names the settings file when no file is passed', async () => {
    const file = join(root, 'other.yaml');
    await writeFile(file, 'jobs: 5\n');
    const settings = await loadSettings({ root, env: { WHEELFARM_CONFIG: file } });
    expect(settings.settingsFile).toBe(file);
    expect(settings.jobs).toBe(5);
  });

  it('an explicit file wins over WHEELFARM_CONFIG', async () => {
    await writeFile(join(root, 'a.yaml'), 'jobs: 3\n');
    await writeFile(join(root, 'b.yaml'), 'jobs: 4\n');
    const settings = await loadSettings({ root, file: join(root, 'a.yaml'), env: { WHEELFARM_CONFIG: join(root, 'b.yaml') } });
    expect(settings.jobs).toBe(3);
  });

  it('WHEELFARM_HOME overrides home (and the index under it)', async () => {
    await writeFile(join(root, 'wheelfarm.yaml'), 'home: /from/file\n');
    const settings = await loadSettings({ root, env: { WHEELFARM_HOME: '/from/env' } });
    expect(settings.home).toBe('/from/env');
    expect(settings.indexDir).toBe('/from/env/index');
  });

  it('a variable set to nothing counts as unset: WHEELFARM_HOME= keeps the default home, not the current folder', async () => {
    const settings = await loadSettings({ root, env: { WHEELFARM_HOME: '', WHEELFARM_RECIPES_DIR: '' } });
    expect(settings.home).toBe(join(root, '.wheelfarm'));
    expect(settings.recipesDir).toBe(join(root, 'recipes'));
  });

  it('WHEELFARM_HOME does not move an index dir set in the file', async () => {
    await writeFile(join(root, 'wheelfarm.yaml'), 'index:\n  dir: /srv/wheels\n');
    const settings = await loadSettings({ root, env: { WHEELFARM_HOME: '/from/env' } });
    expect(settings.home).toBe('/from/env');
    expect(settings.indexDir).toBe('/srv/wheels');
  });

  it('WHEELFARM_UPSTREAM_INDEX_URL overrides upstream.index-url', async () => {
    await writeFile(join(root, 'wheelfarm.yaml'), 'upstream:\n  index-url: https://file.example/simple/\n');
    expect((await loadSettings({ root, env: {} })).upstreamIndexUrl).toBe('https://file.example/simple/');
    const settings = await loadSettings({ root, env: { WHEELFARM_UPSTREAM_INDEX_URL: 'https://env.example/simple/' } });
    expect(settings.upstreamIndexUrl).toBe('https://env.example/simple/');
  });

  it('WHEELFARM_UPSTREAM_INDEX_URL applies without a settings file', async () => {
    const settings = await loadSettings({ root, env: { WHEELFARM_UPSTREAM_INDEX_URL: 'https://env.example/simple/' } });
    expect(settings.upstreamIndexUrl).toBe('https://env.example/simple/');
  });

  it('rejects an unknown key, naming the file, the line and the field', async () => {
    const text = 'jobs: 2\ncontainers:\n  memory: 8g\n  cores: 4\n';
    await writeFile(join(root, 'wheelfarm.yaml'), text);
    const error = await rejection(loadSettings({ root, env: {} }));
    expect(error.code).toBe('bad-settings-file');
    expect(error.message).toMatch(
      new RegExp(`${join(root, 'wheelfarm.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: \`containers\`: .*"cores"`),
    );
  });

  it('rejects an unknown top-level key', async () => {
    await writeFile(join(root, 'wheelfarm.yaml'), 'jobs: 2\nworkers: 4\n');
    const error = await rejection(loadSettings({ root, env: {} }));
    expect(error.code).toBe('bad-settings-file');
    expect(error.message).toMatch(/wheelfarm\.yaml:\d+: `\(top level\)`: .*"workers"/);
  });

  it.each([
    ['jobs: 0', 'jobs: 0', 'jobs'],
    ['jobs: 100', 'jobs: 100', 'jobs'],
    ['jobs: 1.5', 'jobs: 1.5', 'jobs'],
    ['containers:\n  memory: lots', 'memory: lots', 'containers.memory'],
    ['containers:\n  memory: 8gb', 'memory: 8gb', 'containers.memory'],
    ['upstream:\n  index-url: not a url', 'index-url: not a url', 'upstream.index-url'],
    ['images:\n  debian-mirror: mirror', 'debian-mirror: mirror', 'images.debian-mirror'],
    ['containers:\n  cpus: 0', 'cpus: 0', 'containers.cpus'],
    ['containers:\n  cpus: two', 'cpus: two', 'containers.cpus'],
    ['containers:\n  pids: 10', 'pids: 10', 'containers.pids'],
    ['containers:\n  timeout: 2 hours', 'timeout: 2 hours', 'containers.timeout'],
    ['containers:\n  engine-wait: forever', 'engine-wait: forever', 'containers.engine-wait'],
    ['closure:\n  pure: sometimes', 'pure: sometimes', 'closure.pure'],
    ['applications:\n  - name: api\n    requirements: r.txt\n    lock: pylock.toml', '- name: api', 'applications[0]'],
    ['applications:\n  - name: api', '- name: api', 'applications[0]'],
    ['applications:\n  - name: my api\n    lock: pylock.toml', 'name: my api', 'applications[0].name'],
    ['applications:\n  - name: api\n    lock: pylock.toml\n    pythons: ["3"]', 'pythons', 'applications[0].pythons[0]'],
  ])('rejects %j at its line, naming the field', async (text, line, field) => {
    await writeFile(join(root, 'wheelfarm.yaml'), `${text}\n`);
    const error = await rejection(loadSettings({ root, env: {} }));
    expect(error.code).toBe('bad-settings-file');
    expect(error.message).toContain(`${join(root, 'wheelfarm.yaml')}:${lineOf(text, line)}: \`${field}\`:`);
  });

  it('reports invalid YAML with its line', async () => {
    const text = 'jobs: 2\ncontainers:\n  memory: 8g\n trust-host-ca: auto\n';
    await writeFile(join(root, 'wheelfarm.yaml'), text);
    const error = await rejection(loadSettings({ root, env: {} }));
    expect(error.code).toBe('bad-yaml');
    expect(error.message).toContain(`wheelfarm.yaml:${lineOf(text, ' trust-host-ca')}:`);
  });

  it('an explicit file that does not exist is a file-unreadable error', async () => {
    const file = join(root, 'missing.yaml');
    const error = await rejection(loadSettings({ root, file, env: {} }));
    expect(error.code).toBe('file-unreadable');
    expect(error.message).toBe(`cannot read the settings file ${file}: ENOENT: no such file or directory, open '${file}'`);
    expect(error.hint).toBe(`check that ${file} exists and is readable`);
  });

  it('a WHEELFARM_CONFIG that does not exist is a file-unreadable error', async () => {
    const error = await rejection(loadSettings({ root, env: { WHEELFARM_CONFIG: join(root, 'nope.yaml') } }));
    expect(error.code).toBe('file-unreadable');
  });

  it.each([
    [
      'hosts:\n  - name: a\n    docker: http://h:2375\n',
      /wheelfarm\.yaml:3: `hosts\[0\]\.docker`: expected unix:\/\/\/path, tcp:\/\/HOST:PORT or ssh:\/\/USER@HOST/,
    ],
    ['hosts:\n  - name: a\n    docker: unix:///x\n    slots: 0\n', /`hosts\[0\]\.slots`/],
    ['records:\n  url: mysql://db/x\n', /wheelfarm\.yaml:2: `records\.url`: expected a PostgreSQL URL/],
    ['matrix:\n  retry:\n    after: soon\n', /wheelfarm\.yaml:3: `matrix\.retry\.after`: expected a duration like `6h`/],
    ['matrix:\n  pythons: ["3"]\n', /`matrix\.pythons\[0\]`: expected a CPython version like `3\.13`/],
    ['schedule:\n  - name: n\n    cron: "* * * * *"\n    run: everything\n', /wheelfarm\.yaml:4: `schedule\[0\]\.run`/],
  ])('a bad matrix, host, records or schedule setting names file, line and field: %s', async (text, message) => {
    await writeFile(join(root, 'wheelfarm.yaml'), text);
    const error = await rejection(loadSettings({ root, env: {} }));
    expect(error.code).toBe('bad-settings-file');
    expect(error.message).toMatch(message);
  });
});

/** The exact text each kind of bad value gets: the rows of docs/bad-input.md that name this file. */
describe('what a bad settings file is told', () => {
  it.each([
    ['jobs: 0', 1, 'jobs', 'Too small: expected number to be >=1'],
    ['containers:\n  memory: lots', 2, 'containers.memory', 'expected a size like `8g` or `512m`'],
    ['containers:\n  timeout: 2 hours', 2, 'containers.timeout', 'expected a duration like `3h` or `90m`'],
    ['upstream:\n  index-url: not a url', 2, 'upstream.index-url', 'Invalid URL'],
    [
      'schedule:\n  - name: n\n    cron: "* * * * *"\n    run: everything',
      4,
      'schedule[0].run',
      'Invalid option: expected one of "matrix"|"new-releases"',
    ],
  ])('%j: the field, its line and what it expects', async (text, line, field, expected) => {
    const file = join(root, 'wheelfarm.yaml');
    await writeFile(file, `${text}\n`);
    const error = await rejection(loadSettings({ root, env: {} }));
    expect(error.code).toBe('bad-settings-file');
    expect(error.message).toBe(`invalid settings file:\n  ${file}:${line}: \`${field}\`: ${expected}`);
    expect(error.hint).toBe(`fix the field(s) named above in ${file}`);
  });

  it('YAML that does not parse: its line and what the parser says', async () => {
    const file = join(root, 'wheelfarm.yaml');
    await writeFile(file, 'jobs: 2\ncontainers:\n  memory: 8g\n trust-host-ca: auto\n');
    const error = await rejection(loadSettings({ root, env: {} }));
    expect(error.code).toBe('bad-yaml');
    expect(error.message).toBe(`${file}:4: the settings file is not valid YAML: All mapping items must start at the same column`);
    expect(error.hint).toBe('fix the YAML syntax at that line');
  });
});
