import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError, WheelfarmError } from '../errors.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';

/**
 * Make the base image with no registry: debootstrap a Debian root filesystem on the host and
 * import it. Needs root and debootstrap (scripts/setup.sh installs it on Debian).
 */
export async function bootstrapBaseImage({
  runtime,
  tag,
  suite,
  variant,
  mirror,
  workDir,
  onOutput,
  signal,
}: {
  runtime: ContainerRuntime;
  tag: string;
  suite: string;
  variant: string;
  mirror: string;
  workDir: string;
  onOutput: (text: string) => void;
  signal?: AbortSignal;
}): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('base-needs-root', 'making the base image with debootstrap needs root', {
      hint: 'run `./wheelfarm images build` once as root, or name an upstream manylinux image under `base.upstream` in images/images.yaml',
    });
  }
  const rootfs = join(workDir, `rootfs-${suite}-${process.pid}`);
  await rm(rootfs, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  try {
    const debootstrap = execa('debootstrap', [`--variant=${variant}`, suite, rootfs, mirror], {
      all: true,
      buffer: false,
      ...(signal ? { cancelSignal: signal } : {}),
    });
    debootstrap.all?.setEncoding('utf8').on('data', onOutput);
    await debootstrap.catch((error: unknown) => {
      if ((error as { code?: string }).code === 'ENOENT') {
        throw new EnvironmentError('no-debootstrap', 'debootstrap is not installed', {
          hint: 'apt-get install debootstrap (scripts/setup.sh does this on Debian as root)',
          cause: error,
        });
      }
      throw new WheelfarmError('debootstrap-failed', `debootstrap ${suite} from ${mirror} failed`, {
        hint: 'read the image log named above; check that the mirror serves this suite',
        cause: error,
      });
    });
    const tar = execa('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { buffer: false, stdout: 'pipe' });
    await Promise.all([runtime.importImage({ rootfs: tar.stdout!, tag, ...(signal ? { signal } : {}) }), tar]);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
