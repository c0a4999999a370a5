/**
 * Polls `probe` until it returns something other than undefined or false, and resolves with it.
 * Rejects, naming `what`, when the deadline passes first, a probe that never settles included: a
 * test waits for the event it needs rather than sleeping for a time that a loaded machine may not
 * honour, and a hang is reported as what it waited for, not as the test's timeout.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 15_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await withinDeadline(what, timeoutMs, deadline, probe());
    if (result !== undefined && result !== false) {
      return result;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The time a test that drives real processes through a load may take: several times what it
 * takes on an idle machine, so that a CI machine busy with other work does not fail it.
 */
export const LOADED_MACHINE_TIMEOUT_MS = 240_000;

async function withinDeadline<T>(what: string, timeoutMs: number, deadline: number, pending: T | Promise<T>): Promise<T> {
  if (!(pending instanceof Promise)) {
    return pending;
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms (a probe did not settle)`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([pending, expired]);
  } finally {
    clearTimeout(timer);
  }
}
