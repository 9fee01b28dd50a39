// The `end` block: ends the run successfully. Its optional `output` is a JSON value whose
// string leaves are templates; without one the run's output is the final variables.
import { z } from 'zod';
import { renderTemplateValue } from '../template';
import type { BlockPlugin } from '../types';

export const endConfigSchema = z.object({ output: z.unknown().optional() });

export type EndConfig = z.output<typeof endConfigSchema>;

export const endPlugin: BlockPlugin<EndConfig> = {
  type: 'end',
  configSchema: endConfigSchema,
  async execute(ctx, config) {
    const output =
      config.output === undefined
        ? { ...ctx.variables }
        : renderTemplateValue(config.output, { variables: ctx.variables, settings: ctx.settings });
    return { end: true, output };
  },
  targets() {
    return [null];
  },
};
