import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequirementLine } from '../../../farm/src/applications/application-input.ts';
import { lineLabel, resolutionError } from '../../../farm/src/applications/pip-errors.ts';
import { UserInputError } from '../../../farm/src/errors.ts';

/**
 * Real pip 26.3 output, made with the resolver's own command (see
 * test/fixtures/applications/pip-errors/README.md), cut to its last 6000 characters as the resolver
 * script hands it over.
 */
const pipSaid = (name: string) =>
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'applications', 'pip-errors', `${name}.txt`), 'utf8').slice(-6000);

function line(file: string, at: number, requirement: string, name: string, constraint = false): RequirementLine {
  return { file, line: at, requirement, name, hashes: [], constraint };
}

const FLASK = line('requirements.txt', 1, 'flask==3.1.2', 'flask');
const IDNA_37 = line('requirements.txt', 3, 'idna==3.7', 'idna');
const IDNA_38 = line('requirements.txt', 4, 'idna==3.8', 'idna');

/** The hint's lines between its first line (`pip says:`) and, for a conflict, its advice. */
const pipLinesOf = (hint: string | undefined) => hint!.split('\n').slice(1);

describe('lineLabel', () => {
  it('is file:line and the requirement', () => {
    expect(lineLabel(IDNA_37)).toBe('requirements.txt:3 idna==3.7');
  });
});

describe('resolutionError: conflicting requirements', () => {
  it('names the application’s lines of two conflicting top-level pins, not the others', () => {
    const error = resolutionError('3.13', pipSaid('conflicting-pins'), [FLASK, IDNA_37, IDNA_38]);
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('conflicting-requirements');
    expect(error.message).toBe('the requirements conflict for Python 3.13: requirements.txt:3 idna==3.7; requirements.txt:4 idna==3.8');
  });

  it('hints with pip’s explanation from its first ERROR line (not its downloads) and the advice', () => {
    const error = resolutionError('3.13', pipSaid('conflicting-pins'), [FLASK, IDNA_37, IDNA_38]);
    expect(error.hint).toBe(
      [
        "pip's resolver says:",
        'ERROR: Cannot install idna==3.7 and idna==3.8 because these package versions have conflicting dependencies.',
        'The conflict is caused by:',
        'The user requested idna==3.7',
        'The user requested idna==3.8',
        'Additionally, some packages in these conflicts have no matching distributions available for your environment:',
        'idna',
        'To fix this you could try to:',
        "1. loosen the range of package versions you've specified",
        '2. remove package versions to allow pip to attempt to solve the dependency conflict',
        'ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts',
        'loosen or align these lines so one version satisfies them all',
      ].join('\n'),
    );
  });

  it('names a constraints file’s line that pip marks (constraint)', () => {
    const constraint = line('constraints.txt', 2, 'idna==3.7', 'idna', true);
    const error = resolutionError('3.12', pipSaid('conflicting-constraint'), [IDNA_38, constraint]);
    expect(error.code).toBe('conflicting-requirements');
    expect(error.message).toBe('the requirements conflict for Python 3.12: requirements.txt:4 idna==3.8; constraints.txt:2 idna==3.7');
  });

  it('names the line whose dependency a constraint rules out, and the constraint’s line', () => {
    const requests = line('requirements.txt', 2, 'requests==2.32.5', 'requests');
    const constraint = line('constraints.txt', 1, 'urllib3<1.21', 'urllib3', true);
    const error = resolutionError('3.13', pipSaid('conflicting-dependency-constraint'), [requests, constraint]);
    expect(error.code).toBe('conflicting-requirements');
    expect(error.message).toBe(
      'the requirements conflict for Python 3.13: requirements.txt:2 requests==2.32.5; constraints.txt:1 urllib3<1.21',
    );
  });

  it('names the line pinning the project whose dependency conflicts, and the line it conflicts with', () => {
    // The farm's requirements.txt has them as lines 1 and 2; the application wrote them at 2 and 5.
    const requests = line('requirements.txt', 2, 'requests==2.32.5', 'requests');
    const urllib3 = line('requirements.txt', 5, 'urllib3<1.21', 'urllib3');
    const error = resolutionError('3.13', pipSaid('conflicting-dependency'), [requests, urllib3]);
    expect(error.code).toBe('conflicting-requirements');
    expect(error.message).toBe(
      'the requirements conflict for Python 3.13: requirements.txt:2 requests==2.32.5; requirements.txt:5 urllib3<1.21',
    );
    expect(error.hint).toContain('requests 2.32.5 depends on urllib3<3 and >=1.21.1');
  });

  it('names the line of a pin that conflicts deep in the closure; pip’s explanation is kept whole (up to 24 lines)', () => {
    const sphinx = line('requirements.txt', 1, 'sphinx==8.2.3', 'sphinx');
    const markupsafe = line('requirements.txt', 2, 'markupsafe<2', 'markupsafe');
    const error = resolutionError('3.13', pipSaid('conflicting-transitive'), [sphinx, markupsafe]);
    expect(error.code).toBe('conflicting-requirements');
    expect(error.message).toContain('requirements.txt:2 markupsafe<2');
    const said = pipLinesOf(error.hint);
    expect(said).toHaveLength(17);
    expect(said[0]).toBe('ERROR: Cannot install markupsafe<2 and sphinx because these package versions have conflicting dependencies.');
    expect(said[9]).toBe('jinja2 3.1.0 depends on MarkupSafe>=2.0');
    expect(said.at(-1)).toBe('loosen or align these lines so one version satisfies them all');
    expect(said.at(-2)).toMatch(/^ERROR: ResolutionImpossible/);
  });

  it('names each project pip blames once, however pip spells it, when no line names them', () => {
    const error = resolutionError('3.13', pipSaid('conflicting-transitive'), [line('requirements.txt', 1, 'sphinx==8.2.3', 'sphinx')]);
    expect(error.message).toBe('the requirements conflict for Python 3.13: markupsafe, jinja2');
  });

  it('names the projects when no line of the application names them', () => {
    const error = resolutionError('3.13', pipSaid('conflicting-pins'), [FLASK]);
    expect(error.code).toBe('conflicting-requirements');
    expect(error.message).toBe('the requirements conflict for Python 3.13: idna');
  });

  it('names the line pinning a project with extras whose dependency conflicts', () => {
    const requests = line('requirements.txt', 1, 'requests[socks]==2.32.5', 'requests');
    const pysocks = line('requirements.txt', 2, 'pysocks<1.5.6', 'pysocks');
    const error = resolutionError('3.13', pipSaid('conflicting-extra'), [requests, pysocks]);
    expect(error.message).toBe(
      'the requirements conflict for Python 3.13: requirements.txt:1 requests[socks]==2.32.5; requirements.txt:2 pysocks<1.5.6',
    );
  });
});

describe('resolutionError: a requirement nothing satisfies', () => {
  const missing = line('requirements.txt', 5, 'wheelfarm-no-such-pkg-xq7', 'wheelfarm-no-such-pkg-xq7');

  it('requirement-not-satisfiable, at the line that asked for it, with pip’s words from its first ERROR line', () => {
    const error = resolutionError('3.12', pipSaid('no-such-project'), [FLASK, missing]);
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('requirement-not-satisfiable');
    expect(error.message).toBe(
      'requirements.txt:5 wheelfarm-no-such-pkg-xq7: no release of `wheelfarm-no-such-pkg-xq7` on the upstream index satisfies the requirements for Python 3.12',
    );
    expect(error.hint).toBe(
      [
        'pip says:',
        'ERROR: Could not find a version that satisfies the requirement wheelfarm-no-such-pkg-xq7 (from versions: none)',
        'ERROR: No matching distribution found for wheelfarm-no-such-pkg-xq7',
        "check the version range and the release's requires-python, or leave Python 3.12 out (--python)",
      ].join('\n'),
    );
  });

  it('finds the line under another spelling of the name', () => {
    const spelt = line('requirements.txt', 2, 'Wheelfarm_No.Such-Pkg-XQ7', 'wheelfarm-no-such-pkg-xq7');
    const said = pipSaid('no-such-project').replaceAll('wheelfarm-no-such-pkg-xq7', 'Wheelfarm_No.Such-Pkg-XQ7');
    const error = resolutionError('3.12', said, [spelt]);
    expect(error.message).toMatch(/^requirements\.txt:2 Wheelfarm_No\.Such-Pkg-XQ7: no release of `Wheelfarm_No\.Such-Pkg-XQ7`/);
  });

  it('says so without a line when no line names the project (a dependency)', () => {
    const error = resolutionError('3.12', pipSaid('no-such-project'), [FLASK]);
    expect(error.code).toBe('requirement-not-satisfiable');
    expect(error.message).toBe(
      'no release of `wheelfarm-no-such-pkg-xq7` on the upstream index satisfies the requirements for Python 3.12',
    );
  });
});

describe('resolutionError: anything else', () => {
  const broken = line('requirements.txt', 2, './broken', 'broken');

  it('resolution-failed with pip’s ERROR line (an sdist whose metadata could not be built)', () => {
    const error = resolutionError('3.13', pipSaid('metadata-failed'), [broken]);
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('resolution-failed');
    expect(error.message).toBe('pip could not resolve the requirements for Python 3.13');
    expect(error.hint).toMatch(/^pip says:\n/);
    expect(error.hint).toContain("ERROR: Failed to build 'file:///tmp/piperr/in/broken' when getting requirements to build wheel");
  });

  it('resolution-failed keeps why the sdist’s build failed, written before pip’s ERROR line', () => {
    const error = resolutionError('3.13', pipSaid('metadata-failed'), [broken]);
    expect(error.hint).toContain('error: the C library libbroken is missing');
  });

  it('resolution-failed with pip’s last 12 lines when pip was killed before saying ERROR', () => {
    const said = pipSaid('killed');
    const error = resolutionError('3.13', said, [line('requirements.txt', 1, 'jupyterlab==4.4.9', 'jupyterlab')]);
    expect(error.code).toBe('resolution-failed');
    const last12 = said
      .trimEnd()
      .split('\n')
      .slice(-12)
      .map((l) => l.trim());
    expect(pipLinesOf(error.hint)).toEqual(last12);
    expect(last12.at(-1)).toBe('Downloading prompt_toolkit-3.0.53-py3-none-any.whl (392 kB)');
  });
});
