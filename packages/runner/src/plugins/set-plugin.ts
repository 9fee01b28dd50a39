// The `set` block: assigns flow variables from templates. String leaves are rendered against
// the variables and settings (`{{var}}`, `{{a.b}}`, `{{settings.NAME}}`); a leaf that is one
// tag alone keeps the variable's own type.
import { z } from 'zod';
import { renderTemplateValue } from '../template';
import type { BlockPlugin } from '../types';

export const setConfigSchema = z.object({
  values: z.record(z.string().min(1, 'a variable name must not be empty'), z.unknown()),
});

export type SetConfig = z.output<typeof setConfigSchema>;

export const setPlugin: BlockPlugin<SetConfig> = {
  type: 'set',
  configSchema: setConfigSchema,
  async execute(ctx, config) {
    const scope = { variables: ctx.variables, settings: ctx.settings };
    const variables = Object.fromEntries(
      Object.entries(config.values).map(([name, value]) => [name, renderTemplateValue(value, scope)]),
    );
    return { variables };
  },
};
