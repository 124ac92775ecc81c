import { hostname } from 'node:os';

/**
 * Who made something that outlives a process (a container, a volume, a lock, a temp file):
 * `<host>:<pid>`. Only on the same host can a pid say whether its owner still runs; what other
 * hosts made is never judged dead here.
 */
export function processOwner(pid = process.pid): string {
  return `${hostname()}:${pid}`;
}

/** `owner` (as processOwner wrote it) is a process of this host that is no longer running. */
export function isDeadOwner(owner: string, isAlive: (pid: number) => boolean = isProcessAlive): boolean {
  const separator = owner.lastIndexOf(':');
  const host = owner.slice(0, separator);
  const pid = owner.slice(separator + 1);
  return separator > 0 && host === hostname() && /^\d+$/.test(pid) && !isAlive(Number(pid));
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
