// One block on the canvas: its type, id, a one-line summary (secret references as chips),
// the server's validation messages, and handles (condition blocks have then/else outputs).
import { Handle, Position } from '@xyflow/react';
import type { Node, NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { BlockDef } from '../api';
import type { BlockIssue } from '../flow-graph';
import { TemplateText } from './template-text';

export type BlockNodeData = { block: BlockDef; isStart: boolean; issues?: BlockIssue[] };
export type BlockNodeType = Node<BlockNodeData, 'block'>;

function summary(b: BlockDef): string {
  const c = b.config;
  switch (b.type) {
    case 'api':
      return `${String(c.method ?? 'GET')} ${String(c.url ?? '')}`;
    case 'function':
      return String(c.code ?? '').split('\n')[0] ?? '';
    case 'set':
      return Object.keys((c.values as Record<string, unknown>) ?? {}).join(', ') || 'no variables';
    case 'condition': {
      const i = (c.if ?? {}) as { var?: string; op?: string; value?: unknown };
      return `if ${i.var ?? '?'} ${i.op ?? 'eq'} ${i.op === 'exists' ? '' : JSON.stringify(i.value ?? '')}`;
    }
    case 'end':
      return 'end of flow';
    default:
      return b.type;
  }
}

function BlockNodeImpl({ data, selected }: NodeProps<BlockNodeType>) {
  const b = data.block;
  const invalid = !!data.issues?.length;
  return (
    <div
      className={`node${selected ? ' selected' : ''}${invalid ? ' invalid' : ''}`}
      data-testid={`node-${b.id}`}
    >
      <Handle type="target" position={Position.Left} />
      <div className="node-head">
        <span className={`node-type t-${b.type}`}>{b.type}</span>
        <span>{b.label || b.id}</span>
        {data.isStart && <span className="node-start">▶ start</span>}
      </div>
      <div className="node-body" title={summary(b)}>
        {b.type === 'api' ? <TemplateText text={summary(b)} /> : summary(b)}
      </div>
      {invalid && (
        <div className="node-error" data-testid="node-error">
          ⚠ {data.issues?.[0]?.message}
          {(data.issues?.length ?? 0) > 1 ? ` (+${(data.issues?.length ?? 1) - 1})` : ''}
        </div>
      )}
      {b.type === 'condition' ? (
        <>
          <Handle
            type="source"
            id="then"
            position={Position.Right}
            style={{ top: '35%', background: '#12b76a' }}
          />
          <Handle
            type="source"
            id="else"
            position={Position.Right}
            style={{ top: '75%', background: '#f04438' }}
          />
        </>
      ) : b.type !== 'end' ? (
        <Handle type="source" id="out" position={Position.Right} />
      ) : null}
    </div>
  );
}

export const BlockNode = memo(BlockNodeImpl);
