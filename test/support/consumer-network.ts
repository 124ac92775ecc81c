import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { findBridgeGateway } from '../../farm/src/runtime/bridge-gateway.ts';
import type { BridgeNetwork } from '../../farm/src/runtime/bridge-gateway.ts';
import { DockerRuntime } from '../../farm/src/runtime/docker-runtime.ts';

/**
 * Consumers of the farm's index on a network with no route out: an internal Docker network
 * (`docker network create --internal`), on which `wheelfarm serve` is the only index there is.
 *
 * How the consumers reach serve (checked, never assumed): a bridge network's gateway is the host's
 * address on that bridge, and for an internal network the engine drops every packet that leaves the
 * network's subnet (DOCKER-ISOLATION rules in the FORWARD chain; on 20.10 the container still has a
 * default route via the gateway, which leads nowhere but the host), but traffic to the gateway itself
 * is the host's own input, not forwarded, so it passes (so would anything else listening on the host:
 * the host is not "out"). Docker 20.10 (Debian's
 * docker.io) and 25.0.4 onwards put the gateway address on an internal network's bridge; 25.0.0 to
 * 25.0.3 did not (moby/moby#46603, restored by #47356), and then the host cannot be reached at all
 * from an internal network. So: serve listens on the internal network's gateway and a throw-away
 * container on the network fetches its root page; if serve cannot listen there, or the page does not
 * come, the fallback is a relay: serve listens on the gateway of the engine's default bridge, and a
 * container attached to both networks forwards one port to it and nothing else. Either way the
 * consumer's only network has no route out and serve (directly or through the relay) is all it reaches.
 */

/** Labels of every container and network made here; the test removes them by name/id, these mark them for people. */
export const TEST_LABELS = { 'wheelfarm-test': '1' };

/** Things to undo, run last to first; every one runs even when another fails (then the first error is thrown). */
export class Cleanup {
  readonly #steps: { what: string; undo: () => Promise<unknown> }[] = [];

  defer(what: string, undo: () => Promise<unknown>): void {
    this.#steps.push({ what, undo });
  }

  async run(): Promise<void> {
    const errors: string[] = [];
    for (const { what, undo } of this.#steps.splice(0).reverse()) {
      try {
        await undo();
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) errors.push(`${what}: ${(error as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(`cleaning up failed: ${errors.join('; ')}`);
  }
}

/** A name no other run on this engine has: `<prefix>-<pid>-<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export interface InternalNetwork {
  name: string;
  id: string;
  /** The host's address on the network's bridge (see the module comment). */
  gateway: string;
}

/** `docker network create --internal`, removed by `cleanup` (after the containers on it, which are deferred later). */
export async function createInternalNetwork(docker: Docker, name: string, cleanup: Cleanup): Promise<InternalNetwork> {
  const network = await docker.createNetwork({ Name: name, Driver: 'bridge', Internal: true, CheckDuplicate: true, Labels: TEST_LABELS });
  cleanup.defer(`network ${name}`, () => network.remove());
  const info = (await network.inspect()) as BridgeNetwork & { Id: string; Internal: boolean };
  if (!info.Internal) throw new Error(`network ${name} was created without Internal: the engine ignored it`);
  // Only the default bridge has its interface in the options; a user-defined network's is br-<id>.
  const bridge = info.Options?.['com.docker.network.bridge.name'] ?? `br-${info.Id.slice(0, 12)}`;
  const gateway = findBridgeGateway(
    { ...info, Options: { ...info.Options, 'com.docker.network.bridge.name': bridge } },
    { engine: 'local', interfaces: networkInterfaces() },
  );
  return { name, id: info.Id, gateway };
}

export interface Serve {
  /** `http://HOST:PORT/simple/` as serve reports it. */
  url: string;
  stop: () => Promise<number>;
}

/** `./wheelfarm serve --index DIR --host HOST --port 0 --json`; resolves once it says where it listens, rejects if it ends first. */
export async function startServeOn(wheelfarm: string, cwd: string, index: string, host: string): Promise<Serve> {
  const server = execa(wheelfarm, ['serve', '--index', index, '--host', host, '--port', '0', '--json'], { cwd, reject: false });
  let said = '';
  server.stderr?.on('data', (chunk: Buffer) => (said += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    server.stdout?.on('data', (chunk: Buffer) => {
      const match = /"url":"([^"]+)"/.exec(chunk.toString());
      if (match) resolve(match[1]!);
    });
    void server.then((result) =>
      reject(new Error(`wheelfarm serve --host ${host} ended (exit ${result.exitCode}) before serving: ${said.trim()}`)),
    );
  });
  return {
    url,
    stop: async () => {
      server.kill('SIGINT');
      return (await server).exitCode ?? -1;
    },
  };
}

export interface CommandResult {
  exitCode: number;
  output: string;
}

/** Run `command` in a throw-away container of `image` whose only network is `network` (`none`, `bridge` or a name). */
export async function runOn(
  docker: Docker,
  image: string,
  network: string,
  command: string[],
  { binds = [], env = [], user }: { binds?: string[]; env?: string[]; user?: string } = {},
): Promise<CommandResult> {
  const out = new PassThrough();
  let output = '';
  out.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const [result, container] = (await docker.run(image, command, out, {
    Labels: TEST_LABELS,
    Env: env,
    ...(user ? { User: user } : {}),
    HostConfig: { Binds: binds, NetworkMode: network },
  })) as [{ StatusCode: number }, Docker.Container];
  await container.remove({ force: true });
  return { exitCode: result.StatusCode, output };
}

/** A container started on `network` only (running `command`, else the image's own), removed by `cleanup`. */
export async function startContainer(
  docker: Docker,
  cleanup: Cleanup,
  {
    image,
    name,
    network,
    command,
    binds = [],
    env = [],
    user,
  }: { image: string; name: string; network: string; command?: string[]; binds?: string[]; env?: string[]; user?: string },
): Promise<Docker.Container> {
  const container = await docker.createContainer({
    name,
    Image: image,
    ...(command ? { Cmd: command } : {}),
    Env: env,
    Labels: TEST_LABELS,
    ...(user ? { User: user } : {}),
    HostConfig: { Binds: binds, NetworkMode: network },
  });
  cleanup.defer(`container ${name}`, () => container.remove({ force: true }));
  await container.start();
  return container;
}

/** `bash -c script` in a running container, as its user; the exit code and the combined output. */
export async function execIn(docker: Docker, container: Docker.Container, script: string, env: string[] = []): Promise<CommandResult> {
  const exec = await container.exec({ Cmd: ['bash', '-c', script], Env: env, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  let output = '';
  out.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  docker.modem.demuxStream(stream, out, out);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, output };
}

/** A container's address on one network. */
export async function addressOn(container: Docker.Container, network: string): Promise<string> {
  const info = await container.inspect();
  const address = info.NetworkSettings.Networks[network]?.IPAddress;
  if (!address) throw new Error(`container ${info.Name} has no address on ${network}`);
  return address;
}

/** Any HTTP answer (whatever its status: an empty index says 404) proves the server is reached. */
const PROBE = `
import sys, urllib.error, urllib.request
try:
    print("HTTP", urllib.request.urlopen(sys.argv[1], timeout=10).status)
except urllib.error.HTTPError as error:
    print("HTTP", error.code)
`;

/** GET `url` from a throw-away container on `network`: undefined when the server answered, else what went wrong. */
export async function unreachableFrom(docker: Docker, image: string, network: string, url: string): Promise<string | undefined> {
  const { exitCode, output } = await runOn(docker, image, network, ['/opt/python/cp313-cp313/bin/python', '-c', PROBE, url]);
  return exitCode === 0 && /^HTTP \d{3}$/m.test(output)
    ? undefined
    : `GET ${url} from a container on ${network}: ${output.trim().split('\n').at(-1)}`;
}

/** Forwards TCP connections on port 8080 to argv[1]:argv[2], both ways, until either side closes. */
const RELAY = `
import socket, sys, threading
target = (sys.argv[1], int(sys.argv[2]))
def pipe(a, b):
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def relay(client):
    try:
        upstream = socket.create_connection(target, timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    pipe(upstream, client)
server = socket.create_server(("0.0.0.0", 8080))
while True:
    threading.Thread(target=relay, args=(server.accept()[0],), daemon=True).start()
`;

export interface FarmOnNetwork {
  network: InternalNetwork;
  /** The index as containers on the network reach it: `http://ADDRESS:PORT/simple/`. */
  indexUrl: string;
  /** ADDRESS of indexUrl (pip needs it as a trusted host: plain HTTP on a private address). */
  address: string;
  /** `gateway`: serve listens on the network's gateway; `relay`: see the module comment. */
  via: 'gateway' | 'relay';
  /** Why the gateway did not do (via `relay` only). */
  gatewayProblem?: string;
}

/**
 * An internal network on which `wheelfarm serve` of `index` is reachable (see the module comment).
 * `via: 'relay'` skips the gateway (to exercise the fallback); everything made is undone by `cleanup`.
 */
export async function serveOnInternalNetwork(
  docker: Docker,
  cleanup: Cleanup,
  {
    wheelfarm,
    cwd,
    index,
    image,
    via = 'gateway',
  }: { wheelfarm: string; cwd: string; index: string; image: string; via?: 'gateway' | 'relay' },
): Promise<FarmOnNetwork> {
  const network = await createInternalNetwork(docker, uniqueName('wheelfarm-test-consumers'), cleanup);
  let gatewayProblem = 'skipped: the relay was asked for';
  if (via === 'gateway') {
    try {
      const serve = await startServeOn(wheelfarm, cwd, index, network.gateway);
      cleanup.defer('wheelfarm serve on the gateway', () => stopServe(serve));
      const problem = await unreachableFrom(docker, image, network.name, serve.url);
      if (problem === undefined) return { network, indexUrl: serve.url, address: network.gateway, via: 'gateway' };
      gatewayProblem = problem;
    } catch (error) {
      gatewayProblem = (error as Error).message;
    }
  }
  const bridgeGateway = await new DockerRuntime().bridgeGateway();
  const serve = await startServeOn(wheelfarm, cwd, index, bridgeGateway);
  cleanup.defer('wheelfarm serve on the default bridge', () => stopServe(serve));
  const { port } = new URL(serve.url);
  const relay = await startContainer(docker, cleanup, {
    image,
    name: uniqueName('wheelfarm-test-relay'),
    network: 'bridge',
    command: ['/opt/python/cp313-cp313/bin/python', '-c', RELAY, bridgeGateway, port],
  });
  await docker.getNetwork(network.id).connect({ Container: relay.id });
  const address = await addressOn(relay, network.name);
  const indexUrl = `http://${address}:8080/simple/`;
  for (let attempt = 0; ; attempt++) {
    const problem = await unreachableFrom(docker, image, network.name, indexUrl);
    if (problem === undefined) break;
    if (attempt === 5)
      throw new Error(`neither the gateway (${gatewayProblem}) nor the relay (${problem}) reaches serve from ${network.name}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return { network, indexUrl, address, via: 'relay', gatewayProblem };
}

async function stopServe(serve: Serve): Promise<void> {
  const exitCode = await serve.stop();
  if (exitCode !== 0) throw new Error(`wheelfarm serve ended with exit ${exitCode} on Ctrl-C`);
}
