// A minimal BlockContext for the sandbox's own tests and benchmark: the function block uses only
// block, variables, log, signal and deadline. Not exported from the package.
import type { BlockContext } from '@flowsafe/runner';

export interface FakeBlockContext extends BlockContext {
  logs: string[];
}

export function fakeBlockContext(
  variables: Record<string, unknown> = {},
  options: { blockId?: string; signal?: AbortSignal; deadline?: number } = {},
): FakeBlockContext {
  const logs: string[] = [];
  return {
    run: {
      runId: 'run-1',
      flowId: 'flow-1',
      projectId: 'project-1',
      workspaceId: 'ws-1',
      environment: 'default',
    },
    block: { id: options.blockId ?? 'shape', type: 'function' },
    variables,
    settings: {},
    redactor: undefined as unknown as BlockContext['redactor'],
    log: (...parts: unknown[]) => {
      logs.push(parts.map(String).join(' '));
    },
    signal: options.signal ?? new AbortController().signal,
    deadline: options.deadline ?? Date.now() + 60_000,
    logs,
  };
}
