import { UserInputError } from '../../errors.ts';
import { LocalDirPublisher } from '../../index/local-dir-publisher.ts';
import { parsePackageSpec } from '../../pipeline/parse-package-spec.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandEnvironment } from '../run-command.ts';

/** `wheelfarm index yank|unyank NAME==VERSION`: PEP 592, every file of that version. */
export async function runIndexYank(
  { context, reporter }: CommandEnvironment,
  specText: string,
  { reason, yank }: { reason?: string; yank: boolean },
): Promise<number> {
  const spec = parsePackageSpec(specText);
  if (spec.version === undefined) {
    throw new UserInputError('version-required', `${yank ? 'yank' : 'unyank'} needs an exact version: \`${spec.name}==VERSION\``, {
      hint: `e.g. \`wheelfarm index ${yank ? 'yank' : 'unyank'} ${spec.name}==1.2.3\``,
    });
  }
  const publisher = localIndex(context.publisher);
  const changed = await publisher.setYanked(spec.name, spec.version, yank ? (reason ? { reason } : {}) : false);
  const verb = yank ? 'yanked' : 'unyanked';
  reporter.result(
    { type: verb, project: spec.name, version: spec.version, files: changed, ...(reason ? { reason } : {}) },
    [changed.length > 0 ? `${verb} ${changed.length} file(s) of ${spec.name} ${spec.version}:` : `${spec.name} ${spec.version} was already ${verb}`, ...changed.map((f) => `  ${f}`)],
  );
  return EXIT.ok;
}

/** `wheelfarm index repair`: every page rebuilt from the stored files, missing `.metadata` written. */
export async function runIndexRepair({ context, reporter }: CommandEnvironment): Promise<number> {
  const result = await localIndex(context.publisher).repair();
  reporter.result(
    { type: 'repaired', ...result },
    [`repaired ${result.projects} project(s); wrote ${result.metadataWritten} missing .metadata file(s); ${context.publisher.description}`],
  );
  return EXIT.ok;
}

function localIndex(publisher: unknown): LocalDirPublisher {
  if (publisher instanceof LocalDirPublisher) return publisher;
  throw new UserInputError('not-a-local-index', 'this command works on the local directory index', {
    hint: 'pass --index DIR',
  });
}
