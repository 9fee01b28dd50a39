// The zod schema of a flow definition (SPEC §6). It checks the shape every flow shares;
// each block's `config` is checked later by the schema of the plugin that owns its type.
import { z } from 'zod';
import type { BlockDefinition, FlowDefinition } from './types';

export const blockIdSchema = z
  .string()
  .min(1, 'a block id must not be empty')
  .max(128, 'a block id has at most 128 characters');

export const blockDefinitionSchema = z.object({
  id: blockIdSchema,
  type: z.string().min(1, 'a block needs a type'),
  next: blockIdSchema.optional(),
  config: z
    .unknown()
    .optional()
    .transform((config) => (config === undefined ? {} : config)),
  position: z.object({ x: z.number(), y: z.number() }).optional(),
  label: z.string().max(200).optional(),
});

export const flowDefinitionSchema = z.object({
  name: z.string().max(200).optional(),
  start: blockIdSchema,
  variables: z.record(z.string(), z.unknown()).optional(),
  retries: z.number().int().min(0).max(10).optional(),
  blocks: z.array(blockDefinitionSchema).min(1, 'a flow needs at least one block').max(1000),
});

// Compile-time check that the schema and the hand-written contract in types.ts agree.
type Assert<T extends true> = T;
export type _SchemaMatchesBlock = Assert<
  z.output<typeof blockDefinitionSchema> extends BlockDefinition ? true : false
>;
export type _SchemaMatchesFlow = Assert<
  z.output<typeof flowDefinitionSchema> extends FlowDefinition ? true : false
>;
