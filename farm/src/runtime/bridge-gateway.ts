import { isIPv4 } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import { EnvironmentError } from '../errors.ts';

/** What `docker network inspect bridge` says that matters here (engines differ in what they fill in). */
export interface BridgeNetwork {
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null } | null;
  Options?: Record<string, string> | null;
}

/**
 * The address containers on the engine's default `bridge` network reach its machine at. Newer engines
 * report it as IPAM.Config[].Gateway; Debian's docker.io 20.10 reports only the Subnet. The engine then
 * has put the gateway on its bridge interface (`com.docker.network.bridge.name`, docker0) itself: for a
 * local engine that interface's IPv4 address in the subnet is the answer; otherwise the subnet's first
 * host address, which is what the engine's address manager hands the gateway when none is configured.
 */
export function findBridgeGateway(
  network: BridgeNetwork,
  { engine, interfaces }: { engine: string; interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> | undefined },
): string {
  const configs = network.IPAM?.Config ?? [];
  const reported = configs.map((c) => c.Gateway).filter((g): g is string => !!g);
  const gateway = reported.find((g) => isIPv4(g)) ?? reported[0];
  if (gateway !== undefined) return gateway;
  const subnets = configs.map((c) => c.Subnet).filter((s): s is string => !!s && isIPv4(s.split('/')[0] ?? ''));
  const bridge = network.Options?.['com.docker.network.bridge.name'];
  const onInterface = (bridge && interfaces?.[bridge]?.filter((a) => a.family === 'IPv4').map((a) => a.address)) || [];
  for (const subnet of subnets) {
    const found = onInterface.find((address) => inSubnet(address, subnet));
    if (found) return found;
  }
  const subnet = subnets[0];
  if (subnet !== undefined) return firstHost(subnet);
  throw new EnvironmentError(
    'no-bridge-gateway',
    `the Docker engine at ${engine} reports neither a gateway nor an IPv4 subnet for its \`bridge\` network`,
    {
      hint: 'check `docker network inspect bridge` (IPAM.Config[].Gateway and .Subnet); containers reach the farm through that network',
    },
  );
}

function toNumber(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function toAddress(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function parseSubnet(subnet: string): { base: number; size: number } {
  const [address, bits] = subnet.split('/');
  const prefix = bits === undefined ? 32 : Number(bits);
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(toNumber(address!) / size) * size, size };
}

function inSubnet(address: string, subnet: string): boolean {
  const { base, size } = parseSubnet(subnet);
  const n = toNumber(address);
  return n >= base && n < base + size;
}

/** `172.17.0.0/16` -> `172.17.0.1`. */
function firstHost(subnet: string): string {
  const { base, size } = parseSubnet(subnet);
  return toAddress(size > 2 ? base + 1 : base);
}
