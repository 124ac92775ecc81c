import { processOwner } from '../process/process-owner.ts';

/** Every container and image the farm makes carries `wheelfarm=1` and these labels. */
export const LABEL = {
  managed: 'wheelfarm',
  buildId: 'wheelfarm.build-id',
  step: 'wheelfarm.step',
  owner: 'wheelfarm.owner',
  imageKind: 'wheelfarm.image.kind',
  imageInputs: 'wheelfarm.image.inputs',
  /** On library and toolchain images: `<name> <version>` of what was built from source. */
  fromSource: 'wheelfarm.from-source',
  /** On library and toolchain images: the sha256 of the source tarball they were built from. */
  sourceSha256: 'wheelfarm.from-source.sha256',
} as const;

/** `<host>:<pid>` of this process: lets the sweeper tell a live run's containers from leftovers. */
export function ownerLabel(pid = process.pid): string {
  return processOwner(pid);
}

export function containerLabels({ buildId, step }: { buildId: string; step: string }): Record<string, string> {
  return { [LABEL.managed]: '1', [LABEL.buildId]: buildId, [LABEL.step]: step, [LABEL.owner]: ownerLabel() };
}
