import { describe, expect, it } from 'vitest';
import { parseMemory } from '../../../farm/src/config/parse-memory.ts';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('parseMemory', () => {
  it.each([
    ['8g', 8 * GiB],
    ['8G', 8 * GiB],
    ['512m', 512 * MiB],
    ['512M', 512 * MiB],
    ['1.5g', 1.5 * GiB],
    ['0.5m', 0.5 * MiB],
    ['64k', 64 * KiB],
    ['1048576', 1_048_576],
    [' 2g ', 2 * GiB],
  ])('%j -> %i bytes', (size, bytes) => {
    expect(parseMemory(size)).toBe(bytes);
  });

  it('rounds fractional bytes to a whole number', () => {
    expect(parseMemory('1.3k')).toBe(Math.round(1.3 * 1024));
    expect(Number.isInteger(parseMemory('1.1111m'))).toBe(true);
  });

  it.each(['', 'g', 'lots', '8gb', '8 g', '-1g', '1,5g', '.5g', '8t', '1e3', '8g8'])('rejects %j with a RangeError', (size) => {
    expect(() => parseMemory(size)).toThrow(RangeError);
  });

  it('names the bad value in the error', () => {
    expect(() => parseMemory('8gb')).toThrow(/8gb/);
  });
});
