/** A memory size as the settings, recipes and `docker run --memory` write it: `8g` -> bytes (k, m, g are powers of 1024). */
export function parseMemory(size: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(size.trim());
  if (!match) throw new RangeError(`Expected a size like \`8g\`, got \`${size}\``);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(match[1]) * unit);
}
