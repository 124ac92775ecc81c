import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import semver from 'semver';
import { EnvironmentError, UserInputError } from '../errors.ts';

export interface RustSettings {
  source: 'auto' | 'host' | 'rustup';
  hostToolchain: string | undefined;
  rustupInitUrl: string | undefined;
}

/** Where a recipe image gets Rust from, and which version that is (an input of the image's tag). */
export type RustProvision =
  | { kind: 'host'; dir: string; version: string; versionText: string }
  | { kind: 'rustup'; initUrl: string; toolchain: string };

/**
 * One setting decides: `host` copies this machine's rustup toolchain into the image (for machines
 * where rustup cannot download), `rustup` installs one in the image (production), `auto` takes the
 * host's when it has one. A recipe's version range must be met by the host toolchain.
 */
export async function resolveRust(settings: RustSettings, range: string | undefined, recipeFile: string): Promise<RustProvision> {
  const hostDir = settings.hostToolchain ?? defaultHostToolchain();
  const useHost = settings.source === 'host' || (settings.source === 'auto' && hostDir !== undefined && existsSync(hostDir));
  if (useHost) {
    if (!hostDir || !existsSync(join(hostDir, 'bin', 'rustc'))) {
      throw new EnvironmentError('no-host-rust', `no Rust toolchain found on this machine${hostDir ? ` at ${hostDir}` : ''}`, {
        hint: 'install one with rustup, set toolchains.rust.host-toolchain in wheelfarm.yaml, or use toolchains.rust.source: rustup',
      });
    }
    const versionText = (await execa(join(hostDir, 'bin', 'rustc'), ['-vV'])).stdout;
    const version = /^release: (\S+)$/m.exec(versionText)?.[1] ?? '0.0.0';
    if (range && !semver.satisfies(semver.coerce(version) ?? '0.0.0', range)) {
      throw new UserInputError('rust-version-unmet', `${recipeFile} needs Rust ${range}; the host toolchain is ${version}`, {
        hint: 'update the host toolchain (rustup update), or use toolchains.rust.source: rustup',
      });
    }
    return { kind: 'host', dir: hostDir, version, versionText };
  }
  if (!settings.rustupInitUrl) {
    throw new EnvironmentError('no-rustup-init-url', 'Rust from rustup needs the URL of rustup-init', {
      hint: "set toolchains.rust.rustup-init-url in wheelfarm.yaml (or RUSTUP_INIT_URL) to your mirror or rustup's documented one",
    });
  }
  const exact = range && semver.valid(range) ? range : 'stable';
  return { kind: 'rustup', initUrl: settings.rustupInitUrl, toolchain: exact };
}

function defaultHostToolchain(): string | undefined {
  const rustupHome = process.env.RUSTUP_HOME ?? join(homedir(), '.rustup');
  const dir = join(rustupHome, 'toolchains', 'stable-x86_64-unknown-linux-gnu');
  return existsSync(dir) ? dir : undefined;
}
