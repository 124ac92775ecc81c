import { UserInputError } from '../../errors.ts';
import type { IndexMaintenance, IndexPublisher } from '../../index/publisher.ts';
import { parsePackageSpec } from '../../pipeline/parse-package-spec.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandEnvironment } from '../run-command.ts';

/** `wheelfarm index yank|unyank NAME==VERSION`: PEP 592, every file of that version. */
export async function runIndexYank(
  { farm, reporter }: CommandEnvironment,
  specText: string,
  { reason, yank }: { reason?: string; yank: boolean },
): Promise<number> {
  const spec = parsePackageSpec(specText);
  if (spec.version === undefined) {
    throw new UserInputError('version-required', `${yank ? 'yank' : 'unyank'} needs an exact version: \`${spec.name}==VERSION\``, {
      hint: `e.g. \`wheelfarm index ${yank ? 'yank' : 'unyank'} ${spec.name}==1.2.3\``,
    });
  }
  const changed = await maintenanceOf(farm.index.publisher).setYanked(spec.name, spec.version, yank ? (reason ? { reason } : {}) : false);
  const verb = yank ? 'yanked' : 'unyanked';
  reporter.result({ type: verb, project: spec.name, version: spec.version, files: changed, ...(reason ? { reason } : {}) }, [
    changed.length > 0
      ? `${verb} ${changed.length} file(s) of ${spec.name} ${spec.version}:`
      : `${spec.name} ${spec.version} was already ${verb}`,
    ...changed.map((f) => `  ${f}`),
  ]);
  return EXIT.ok;
}

/** `wheelfarm index repair`: every page rebuilt from the stored files, missing `.metadata` written, dead publishes' temp files removed. */
export async function runIndexRepair({ farm, reporter }: CommandEnvironment): Promise<number> {
  const result = await maintenanceOf(farm.index.publisher).repair();
  const metadata = result.metadataWritten === undefined ? '' : `; wrote ${result.metadataWritten} missing .metadata file(s)`;
  const temps = result.tempFilesRemoved ? `; removed ${result.tempFilesRemoved} temp file(s) of dead publishes` : '';
  reporter.result({ type: 'repaired', ...result }, [
    `repaired ${result.projects} project(s)${metadata}${temps}; ${farm.index.publisher.description}`,
  ]);
  return EXIT.ok;
}

function maintenanceOf(publisher: IndexPublisher): IndexMaintenance {
  if (publisher.maintenance) return publisher.maintenance;
  throw new UserInputError(
    'index-not-maintained',
    `wheelfarm does not write the pages of the ${publisher.description}: it serves its own`,
    {
      hint: "yank or mend it with the server's own tools; `wheelfarm index` works on the directory index and on S3",
    },
  );
}
