// The flow editor: an @xyflow/react canvas to add, connect, move and delete blocks, a side
// panel to configure the selected block (or the flow, or runs), and save with the server's
// validation errors (400) shown on the block and field, and push protection (422) shown plainly.
import {
  applyNodeChanges,
  Background,
  Controls,
  MarkerType,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from '@xyflow/react';
import type { Connection, Edge, EdgeChange, NodeChange } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError } from '../api';
import type { BlockDef, Flow, FlowDefinition } from '../api';
import {
  addBlock,
  BLOCK_TYPES,
  connect,
  disconnect,
  edgesOf,
  issuesByBlock,
  removeBlock,
  variableNames,
} from '../flow-graph';
import type { BlockIssue, BlockType } from '../flow-graph';
import { useProject } from '../project-context';
import { RunPanel } from '../runs/run-panel';
import { useToast } from '../toast';
import { BlockNode } from './block-node';
import type { BlockNodeType } from './block-node';
import { BlockPanel } from './block-panel';

const nodeTypes = { block: BlockNode };

export default function FlowEditor(props: { flowId: string; onBack: () => void }) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}

type Tab = 'block' | 'flow' | 'runs';

function Editor(props: { flowId: string; onBack: () => void }) {
  const { project, perms, settingNames, reloadSecrets } = useProject();
  const toast = useToast();
  const rf = useReactFlow();
  const [flow, setFlow] = useState<Flow | null>(null);
  const [def, setDef] = useState<FlowDefinition | null>(null);
  const [dirty, setDirty] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('block');
  const [issues, setIssues] = useState<{ byBlock: Map<string, BlockIssue[]>; general: string[] }>({
    byBlock: new Map(),
    general: [],
  });
  const [push, setPush] = useState<{ message: string; secret?: string; code?: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const ro = !perms.edit;

  useEffect(() => {
    let live = true;
    api.flow(project.id, props.flowId).then(
      (f) => {
        if (!live) return;
        setFlow(f);
        const d: FlowDefinition = {
          ...f.definition,
          blocks: (f.definition?.blocks ?? []).map((b, i) => ({
            ...b,
            config: b.config ?? {},
            position: b.position ?? { x: 80 + i * 280, y: 120 },
          })),
        };
        setDef(d);
        setSelected(d.start || d.blocks[0]?.id || null);
      },
      (err: unknown) => live && setLoadError(err instanceof Error ? err.message : String(err)),
    );
    void reloadSecrets();
    return () => {
      live = false;
    };
  }, [project.id, props.flowId, reloadSecrets]);

  const update = useCallback((f: (d: FlowDefinition) => FlowDefinition) => {
    setDef((d) => (d ? f(d) : d));
    setDirty(true);
  }, []);

  const nodes = useMemo<BlockNodeType[]>(
    () =>
      (def?.blocks ?? []).map((b) => ({
        id: b.id,
        type: 'block',
        position: b.position ?? { x: 0, y: 0 },
        selected: b.id === selected,
        data: { block: b, isStart: def?.start === b.id, issues: issues.byBlock.get(b.id) },
        deletable: !ro,
      })),
    [def, selected, issues, ro],
  );
  const edges = useMemo<Edge[]>(
    () =>
      def
        ? edgesOf(def).map((e) => ({
            ...e,
            markerEnd: { type: MarkerType.ArrowClosed },
            style:
              e.sourceHandle === 'then'
                ? { stroke: '#12b76a' }
                : e.sourceHandle === 'else'
                  ? { stroke: '#f04438' }
                  : undefined,
            deletable: !ro,
          }))
        : [],
    [def, ro],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<BlockNodeType>[]) => {
      for (const ch of changes) {
        if (ch.type === 'select' && ch.selected) {
          setSelected(ch.id);
          setTab('block');
        }
        if (ch.type === 'remove' && !ro) update((d) => removeBlock(d, ch.id));
      }
      const moves = changes.filter((c) => c.type === 'position' && c.position);
      if (moves.length && !ro) {
        setDef((d) => {
          if (!d) return d;
          const moved = applyNodeChanges(moves, nodes);
          const pos = new Map(moved.map((n) => [n.id, n.position]));
          return {
            ...d,
            blocks: d.blocks.map((b) => (pos.has(b.id) ? { ...b, position: roundPos(pos.get(b.id)) } : b)),
          };
        });
        if (moves.some((m) => m.type === 'position' && m.dragging === false)) setDirty(true);
      }
    },
    [nodes, ro, update],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      if (ro) return;
      for (const ch of changes) if (ch.type === 'remove') update((d) => disconnect(d, ch.id));
    },
    [ro, update],
  );
  const onConnect = useCallback(
    (c: Connection) => {
      if (ro) return;
      update((d) => connect(d, c.source, c.sourceHandle, c.target));
    },
    [ro, update],
  );

  const add = (type: BlockType) => {
    if (!def) return;
    const sel = def.blocks.find((b) => b.id === selected);
    const position = sel?.position
      ? { x: sel.position.x + 300, y: sel.position.y }
      : { x: 80 + def.blocks.length * 40, y: 120 + def.blocks.length * 40 };
    const { def: nd, id } = addBlock(def, type, position);
    // chain after the selected block when it has no next yet
    const chained =
      sel && sel.type !== 'condition' && sel.type !== 'end' && !sel.next
        ? connect(nd, sel.id, 'out', id)
        : nd;
    setDef(chained);
    setDirty(true);
    setSelected(id);
    setTab('block');
  };

  const save = useCallback(async (): Promise<boolean> => {
    if (!def || !flow) return false;
    setSaving(true);
    setPush(null);
    try {
      const definition: FlowDefinition = { ...def, name: flow.name };
      const saved = await api.updateFlow(project.id, flow.id, { name: flow.name, definition });
      if (saved && typeof saved === 'object' && 'id' in saved) setFlow({ ...flow, ...saved });
      setIssues({ byBlock: new Map(), general: [] });
      setDirty(false);
      toast.ok('Flow saved');
      return true;
    } catch (err) {
      // validation issues come with 400 (or 422 FLOW_INVALID); push protection with 422
      if (err instanceof ApiError && err.issues().length) {
        const grouped = issuesByBlock(def, err.issues());
        setIssues(grouped);
        const first = grouped.byBlock.keys().next().value;
        if (first) {
          setSelected(first);
          setTab('block');
        }
        toast.error(err);
      } else if (err instanceof ApiError && err.status === 422) {
        const d = err.details as { secret?: string; name?: string } | undefined;
        setPush({ message: err.message, secret: d?.secret ?? d?.name, code: err.code });
      } else toast.error(err);
      return false;
    } finally {
      setSaving(false);
    }
  }, [def, flow, project.id, toast]);

  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => {
      if ((ev.ctrlKey || ev.metaKey) && ev.key === 's') {
        ev.preventDefault();
        if (!ro) void save();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [save, ro]);

  if (loadError)
    return (
      <div className="page">
        <div className="alert">{loadError}</div>
        <button onClick={props.onBack}>← Flows</button>
      </div>
    );
  if (!def || !flow) return <div className="loading">Loading flow…</div>;

  const block = def.blocks.find((b) => b.id === selected);
  const variables = variableNames(def, settingNames);

  return (
    <div className="editor" data-testid="flow-editor">
      <div className="editor-bar">
        <button
          className="ghost"
          onClick={() =>
            (!dirty || window.confirm('Discard unsaved changes to this flow?')) && props.onBack()
          }
          data-testid="back-to-flows"
        >
          ← Flows
        </button>
        <h1 data-testid="flow-title">{flow.name}</h1>
        {dirty && <span className="dirty">● unsaved changes</span>}
        {ro && <span className="badge">read-only</span>}
        <div className="spacer" />
        {!ro && (
          <button
            className="primary"
            data-testid="save-flow"
            disabled={saving}
            onClick={() => void save()}
            title="Save (Ctrl+S)"
          >
            {saving ? 'Saving…' : 'Save'}
          </button>
        )}
      </div>
      {push && (
        <div className="alert issues" role="alert" data-testid="push-protection">
          <strong>
            {push.code === 'ALLOWED_HOSTS_REQUIRED'
              ? 'Not saved: this project requires allowed hosts on every secret a flow uses.'
              : "Not saved: this flow contains a secret's value."}
          </strong>{' '}
          {push.message}
          {push.secret && push.code !== 'ALLOWED_HOSTS_REQUIRED' && (
            <>
              {' '}
              Use <code>&lt;secret:{push.secret}&gt;</code> instead of the literal value.
            </>
          )}
        </div>
      )}
      {issues.general.length > 0 && (
        <div className="alert issues" role="alert" data-testid="flow-issues">
          {issues.general.map((m, i) => (
            <div key={i}>{m}</div>
          ))}
        </div>
      )}
      <div className="editor-main">
        <div className="canvas" data-testid="canvas">
          {!ro && (
            <div className="palette" role="toolbar" aria-label="Add block">
              {BLOCK_TYPES.map((t) => (
                <button key={t} onClick={() => add(t)} data-testid={`add-${t}`} title={`Add a ${t} block`}>
                  <span className={`node-type t-${t}`}>+ {t}</span>
                </button>
              ))}
            </div>
          )}
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onPaneClick={() => setSelected(null)}
            nodesDraggable={!ro}
            nodesConnectable={!ro}
            deleteKeyCode={ro ? null : ['Delete', 'Backspace']}
            fitView
            fitViewOptions={{ maxZoom: 1, padding: 0.12 }}
            proOptions={{ hideAttribution: true }}
            onInit={() => rf.fitView({ maxZoom: 1, padding: 0.12 })}
          >
            <Background gap={20} size={1} />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
        <aside className="side" aria-label="Inspector">
          <div className="tabs" role="tablist">
            <button
              role="tab"
              aria-selected={tab === 'block'}
              onClick={() => setTab('block')}
              data-testid="tab-block"
            >
              Block
            </button>
            <button
              role="tab"
              aria-selected={tab === 'flow'}
              onClick={() => setTab('flow')}
              data-testid="tab-flow"
            >
              Flow
            </button>
            <button
              role="tab"
              aria-selected={tab === 'runs'}
              onClick={() => setTab('runs')}
              data-testid="tab-runs"
            >
              Runs
            </button>
          </div>
          {tab === 'block' &&
            (block ? (
              <BlockPanel
                key={block.id}
                def={def}
                block={block}
                issues={issues.byBlock.get(block.id)}
                variables={variables}
                readOnly={ro}
                onChange={(nb: BlockDef) =>
                  update((d) => ({ ...d, blocks: d.blocks.map((b) => (b.id === nb.id ? nb : b)) }))
                }
                onDelete={() => {
                  update((d) => removeBlock(d, block.id));
                  setSelected(null);
                }}
                onSetStart={() => update((d) => ({ ...d, start: block.id }))}
              />
            ) : (
              <p className="muted">Select a block on the canvas, or add one from the toolbar.</p>
            ))}
          {tab === 'flow' && <FlowSettings def={def} readOnly={ro} onChange={(d) => update(() => d)} />}
          {tab === 'runs' && <RunPanel flowId={flow.id} dirty={dirty} onSaveFirst={save} />}
        </aside>
      </div>
    </div>
  );
}

function roundPos(p: { x: number; y: number } | undefined): { x: number; y: number } {
  return { x: Math.round(p?.x ?? 0), y: Math.round(p?.y ?? 0) };
}

function FlowSettings(props: {
  def: FlowDefinition;
  readOnly: boolean;
  onChange: (d: FlowDefinition) => void;
}) {
  const [text, setText] = useState(() => JSON.stringify(props.def.variables ?? {}, null, 2));
  const [error, setError] = useState<string | null>(null);
  return (
    <div data-testid="flow-settings">
      <h2>Flow</h2>
      <label className="field">
        <span>Start block</span>
        <select
          disabled={props.readOnly}
          value={props.def.start}
          onChange={(e) => props.onChange({ ...props.def, start: e.target.value })}
        >
          {props.def.blocks.map((b) => (
            <option key={b.id} value={b.id}>
              {b.label || b.id}
            </option>
          ))}
        </select>
      </label>
      <label className={`field${error ? ' has-error' : ''}`}>
        <span>Variables (JSON) — initial values; never put a secret value here</span>
        <textarea
          rows={8}
          readOnly={props.readOnly}
          data-testid="flow-variables"
          value={text}
          spellCheck={false}
          onChange={(e) => {
            setText(e.target.value);
            try {
              const v = JSON.parse(e.target.value || '{}') as unknown;
              if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('must be an object');
              setError(null);
              props.onChange({ ...props.def, variables: v as Record<string, unknown> });
            } catch (err) {
              setError(err instanceof Error ? err.message : 'invalid JSON');
            }
          }}
        />
        {error && <span className="field-error">{error}</span>}
      </label>
    </div>
  );
}
