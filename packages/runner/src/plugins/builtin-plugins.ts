// The block plugins that ship with the runner. The runner itself knows none of them by
// name: callers pass these (plus api, function, …) to createRunner like any other plugin.
import type { BlockPlugin } from '../types';
import { conditionPlugin } from './condition-plugin';
import { endPlugin } from './end-plugin';
import { setPlugin } from './set-plugin';

/** set, condition and end, as a fresh array to spread into createRunner's plugins. */
export function builtinPlugins(): BlockPlugin[] {
  return [setPlugin, conditionPlugin, endPlugin];
}
