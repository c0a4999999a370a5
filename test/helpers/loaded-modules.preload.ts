/**
 * Loaded with `-r` into a spawned service process: answers, over the IPC channel, the files of
 * every module the process has loaded so far (what `require.cache` holds).
 */
import type { LoadedModulesCommand, LoadedModulesReport } from './trace-capture';

process.on('message', (message: LoadedModulesCommand) => {
  if (message.loadedModules === 'list') {
    process.send?.({ loadedModules: Object.keys(require.cache) } satisfies LoadedModulesReport);
  }
});
process.channel?.unref();
