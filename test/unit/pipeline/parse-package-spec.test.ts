import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';
import { parsePackageSpec } from '../../../farm/src/pipeline/parse-package-spec.ts';

function failure(text: string): UserInputError {
  try {
    parsePackageSpec(text);
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError);
    return error as UserInputError;
  }
  throw new Error(`parsePackageSpec(${JSON.stringify(text)}) did not throw`);
}

describe('parsePackageSpec', () => {
  it.each([
    ['markupsafe', { name: 'markupsafe' }],
    ['MarkupSafe', { name: 'MarkupSafe' }],
    ['a', { name: 'a' }],
    ['zope.interface', { name: 'zope.interface' }],
    ['typing_extensions', { name: 'typing_extensions' }],
    ['ruamel.yaml.clib', { name: 'ruamel.yaml.clib' }],
    ['  pyyaml  ', { name: 'pyyaml' }],
  ])('%j -> %j', (text, expected) => {
    const spec = parsePackageSpec(text);
    expect(spec).toEqual(expected);
    expect('version' in spec).toBe(false);
  });

  it.each([
    ['markupsafe==3.0.3', { name: 'markupsafe', version: '3.0.3' }],
    ['MarkupSafe==3.0.3', { name: 'MarkupSafe', version: '3.0.3' }],
    ['markupsafe == 3.0.3', { name: 'markupsafe', version: '3.0.3' }],
    ['  markupsafe==3.0.3  ', { name: 'markupsafe', version: '3.0.3' }],
    ['markupsafe\t==\t3.0.3', { name: 'markupsafe', version: '3.0.3' }],
    ['pyyaml==6.0.2rc1', { name: 'pyyaml', version: '6.0.2rc1' }],
    ['foo.bar_baz-qux==1!2.0rc1.post3.dev4+local.7', { name: 'foo.bar_baz-qux', version: '1!2.0rc1.post3.dev4+local.7' }],
  ])('%j -> %j', (text, expected) => {
    expect(parsePackageSpec(text)).toEqual(expected);
  });

  it('keeps the version as written (not normalized)', () => {
    expect(parsePackageSpec('foo==1.0.0').version).toBe('1.0.0');
    expect(parsePackageSpec('foo==1.0-RC1').version).toBe('1.0-RC1');
  });

  it.each([
    '',
    '   ',
    '-foo',
    'foo-',
    '.foo',
    'foo_',
    'foo bar',
    'foo@1.0',
    'föö',
    'foo/bar',
    'foo[extra]',
    'foo[extra]==1.0',
    '==1.0',
    'foo==',
  ])('rejects %j as not a package spec', (text) => {
    const error = failure(text);
    expect(error.code).toBe('bad-package-spec');
    expect(error.message).toContain(`\`${text}\``);
    expect(error.hint).toMatch(/markupsafe==3\.0\.3/);
  });

  it.each(['foo>=1.0', 'foo<=1.0', 'foo>1', 'foo<2', 'foo!=1.0', 'foo~=1.0', 'foo==1.0 extra'])('rejects the range %j', (text) => {
    expect(failure(text).code).toBe('bad-package-spec');
  });

  it.each(['foo==latest', 'foo==1.0.*', 'foo==1..0', 'foo==1.0==2.0', 'foo==1.0;python_version>"3"'])(
    'rejects %j as a bad version, naming the version',
    (text) => {
      const error = failure(text);
      expect(error.code).toBe('bad-version');
      expect(error.message).toContain(text.slice(text.indexOf('==') + 2));
      expect(error.message).toContain('PEP 440');
    },
  );

  it.each(['foo===1.0', 'foo==1.0,<2'])('rejects %j (only a single exact pin is supported)', (text) => {
    expect(() => parsePackageSpec(text)).toThrow(UserInputError);
  });
});
