import { describeValue } from '../errors.ts';

/**
 * Up-front checks for options objects of this folder. A failure here is a programming error in
 * the caller, so these throw TypeError with a message that names the option and the bad value.
 */
export function expectNonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`Expected \`${name}\` to be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

export function expectOptionalNonEmptyString(name: string, value: unknown): string | undefined {
  return value === undefined ? undefined : expectNonEmptyString(name, value);
}

export function expectIntegerAtLeast(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new TypeError(`Expected \`${name}\` to be an integer >= ${min}, got ${describeValue(value)}`);
  }
  return value;
}

export function expectFiniteNumberAtLeast(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`Expected \`${name}\` to be a finite number >= ${min}, got ${describeValue(value)}`);
  }
  return value;
}

export function expectOptionalSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(`Expected \`${name}\` to be an AbortSignal, got ${typeof value}`);
  }
  return value;
}

export function expectOptionalFunction<T extends (...args: never[]) => unknown>(name: string, value: unknown): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`Expected \`${name}\` to be a function, got ${describeValue(value)}`);
  }
  return value as T | undefined;
}

export function expectObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Expected \`${name}\` to be an options object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}
