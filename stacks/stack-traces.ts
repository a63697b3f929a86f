/**
 * cdktf records a stack trace of unlimited depth for every token and lazy value it creates
 * (cdktf/lib/tokens/private/stack-trace.js, kept for its "unresolved token" errors), and tsx turns on
 * Node's source-mapped stack traces, so every frame of every one of those traces was mapped back to
 * its TypeScript line: half of the CPU of composing 100 account-regions (README "Performance").
 * Composing and synthesizing run with Node's plain traces instead; an error's message is the same, its
 * stack names the transpiled positions. BACKUP_ACTIONS_SOURCE_MAPS=1 keeps the mapped traces.
 */
export function withPlainStackTraces<T>(run: () => T): T {
  const before = process.sourceMapsEnabled;
  if (process.env.BACKUP_ACTIONS_SOURCE_MAPS !== "1") process.setSourceMapsEnabled(false);
  try {
    return run();
  } finally {
    process.setSourceMapsEnabled(before);
  }
}
