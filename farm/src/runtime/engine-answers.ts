import type { ContainerRuntime } from './container-runtime.ts';

/** How long a ping may take: an engine that accepts connections but does not answer (half started) counts as not answering. */
const PING_TIMEOUT_MS = 5_000;

/** Does the engine answer a ping now? Never throws; the error of an unanswered ping goes to `onError`. */
export async function engineAnswers(
  runtime: Pick<ContainerRuntime, 'ping'>,
  { timeoutMs = PING_TIMEOUT_MS, onError }: { timeoutMs?: number; onError?: (error: unknown) => void } = {},
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    await Promise.race([runtime.ping(), late]);
    return true;
  } catch (error) {
    onError?.(error);
    return false;
  } finally {
    clearTimeout(timer);
  }
}
