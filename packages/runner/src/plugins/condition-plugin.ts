// The `condition` block: compares one variable and continues with `then` or `else`. A branch
// left empty ends the run there. It declares both branches as targets so save-time
// validation can tell a loop with a way out from one without.
import { z } from 'zod';
import { blockIdSchema } from '../flow-schema';
import { getPath, renderTemplate } from '../template';
import type { BlockPlugin } from '../types';

export const conditionConfigSchema = z
  .object({
    if: z.object({
      var: z.string().min(1, 'name the variable to compare, e.g. "ticket.status"'),
      op: z.enum(['eq', 'ne', 'gt', 'lt', 'exists']),
      value: z.unknown().optional(),
    }),
    then: blockIdSchema.optional(),
    else: blockIdSchema.optional(),
  })
  .superRefine((config, ctx) => {
    if (config.if.op !== 'exists' && config.if.value === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['if', 'value'],
        message: `op "${config.if.op}" needs a value to compare with`,
      });
    }
  });

export type ConditionConfig = z.output<typeof conditionConfigSchema>;

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function isEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const na = asNumber(a);
  const nb = asNumber(b);
  if (na !== undefined && nb !== undefined && (typeof a === 'number' || typeof b === 'number'))
    return na === nb;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    try {
      return JSON.stringify(a) === JSON.stringify(b);
    } catch {
      return false;
    }
  }
  return false;
}

function compare(a: unknown, b: unknown): number | undefined {
  const na = asNumber(a);
  const nb = asNumber(b);
  if (na !== undefined && nb !== undefined) return na - nb;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/** Evaluates a condition against the variables; a string `value` may itself be a template. */
export function evaluateCondition(
  test: ConditionConfig['if'],
  variables: Readonly<Record<string, unknown>>,
  settings: Readonly<Record<string, string>>,
): boolean {
  const actual = getPath(variables, test.var);
  const expected =
    typeof test.value === 'string' ? renderTemplate(test.value, { variables, settings }) : test.value;
  switch (test.op) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case 'eq':
      return isEqual(actual, expected);
    case 'ne':
      return !isEqual(actual, expected);
    case 'gt':
      return (compare(actual, expected) ?? 0) > 0;
    case 'lt':
      return (compare(actual, expected) ?? 0) < 0;
  }
}

export const conditionPlugin: BlockPlugin<ConditionConfig> = {
  type: 'condition',
  configSchema: conditionConfigSchema,
  async execute(ctx, config) {
    const passed = evaluateCondition(config.if, ctx.variables, ctx.settings);
    ctx.log(`${config.if.var} ${config.if.op}: ${passed ? 'then' : 'else'}`);
    return { next: (passed ? config.then : config.else) ?? null };
  },
  targets(config) {
    return [config.then ?? null, config.else ?? null];
  },
};
