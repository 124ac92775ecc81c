import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../../farm/src/errors.ts';
import { findBridgeGateway } from '../../../farm/src/runtime/bridge-gateway.ts';

const engine = 'unix:///var/run/docker.sock';
const options = { 'com.docker.network.bridge.name': 'docker0' };

function ipv4(address: string): NetworkInterfaceInfo {
  return { address, family: 'IPv4', netmask: '255.255.0.0', mac: '02:42:00:00:00:00', internal: false, cidr: `${address}/16` };
}

describe('findBridgeGateway', () => {
  it('takes the gateway the engine reports, IPv4 first', () => {
    const network = {
      IPAM: {
        Config: [
          { Subnet: 'fd00::/64', Gateway: 'fd00::1' },
          { Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' },
        ],
      },
    };
    expect(findBridgeGateway(network, { engine, interfaces: undefined })).toBe('172.18.0.1');
  });

  it("Debian's docker.io 20.10 (a Subnet, no Gateway): the bridge interface's address on a local engine", () => {
    // What `docker network inspect bridge` printed on that engine: no Gateway field at all.
    const network = { IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '172.17.0.0/16' }] }, Options: options };
    const interfaces = { lo: [ipv4('127.0.0.1')], docker0: [ipv4('172.17.0.1')] };
    expect(findBridgeGateway(network, { engine, interfaces })).toBe('172.17.0.1');
    // A bip of 172.17.5.9/16 puts that address on docker0: it, not the first host, is the gateway.
    expect(findBridgeGateway(network, { engine, interfaces: { docker0: [ipv4('172.17.5.9')] } })).toBe('172.17.5.9');
  });

  it("without the interface (a remote engine, or docker0 not visible): the subnet's first host address", () => {
    const network = { IPAM: { Config: [{ Subnet: '10.200.16.0/20' }] }, Options: options };
    expect(findBridgeGateway(network, { engine, interfaces: undefined })).toBe('10.200.16.1');
    // An interface address outside the subnet is not the bridge's.
    expect(findBridgeGateway(network, { engine, interfaces: { docker0: [ipv4('192.168.1.1')] } })).toBe('10.200.16.1');
  });

  it('neither a gateway nor a subnet: a clear error naming the engine', () => {
    const error = (() => {
      try {
        findBridgeGateway({ IPAM: { Config: [] } }, { engine, interfaces: undefined });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error).toMatchObject({ code: 'no-bridge-gateway' });
    expect((error as Error).message).toContain(engine);
  });
});
