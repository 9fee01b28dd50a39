// The project's flows: list, create, rename, delete. This is the first screen after sign-in,
// so it lives in the main chunk and imports nothing heavy.
import { useState } from 'react';
import { api } from '../api';
import type { Flow } from '../api';
import { Modal } from '../modal';
import { useProject } from '../project-context';
import { useToast } from '../toast';
import { useLoadedList } from '../use-loaded-list';

export function FlowList(props: { onOpen: (id: string) => void }) {
  const { project, perms } = useProject();
  const toast = useToast();
  const [dialog, setDialog] = useState<
    { kind: 'create' } | { kind: 'rename'; flow: Flow } | { kind: 'delete'; flow: Flow } | null
  >(null);

  const [flows, load] = useLoadedList(project.id, api.flows);

  return (
    <section className="page" data-testid="flow-list">
      <header className="page-head">
        <div>
          <h1>Flows</h1>
          <p className="muted">Graphs of API, function, set, condition and end blocks.</p>
        </div>
        {perms.edit && (
          <button className="primary" data-testid="new-flow" onClick={() => setDialog({ kind: 'create' })}>
            + New flow
          </button>
        )}
      </header>
      {flows === null ? (
        <div className="skeleton-list" aria-label="Loading flows">
          <div className="skeleton" />
          <div className="skeleton" />
          <div className="skeleton" />
        </div>
      ) : flows.length === 0 ? (
        <div className="empty" data-testid="flows-empty">
          <h2>No flows yet</h2>
          <p className="muted">
            Create a flow, add an API block and type &lt; in any field to pick a secret.
          </p>
        </div>
      ) : (
        <ul className="rows" data-testid="flows">
          {flows.map((f) => (
            <li key={f.id} className="row" data-testid="flow-row">
              <button
                className="row-main linklike"
                onClick={() => props.onOpen(f.id)}
                data-testid="open-flow"
              >
                <span className="row-title">{f.name}</span>
                <span className="muted small">
                  {[
                    f.definition?.blocks ? `${f.definition.blocks.length} blocks` : '',
                    f.updatedAt ? `updated ${new Date(f.updatedAt).toLocaleString()}` : '',
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </span>
              </button>
              {perms.edit && (
                <div className="row-actions">
                  <button
                    className="ghost"
                    onClick={() => setDialog({ kind: 'rename', flow: f })}
                    data-testid="rename-flow"
                  >
                    Rename
                  </button>
                  <button
                    className="ghost danger"
                    onClick={() => setDialog({ kind: 'delete', flow: f })}
                    data-testid="delete-flow"
                  >
                    Delete
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {dialog?.kind === 'create' && (
        <NameDialog
          title="New flow"
          submit="Create"
          initial=""
          onClose={() => setDialog(null)}
          onSubmit={async (name) => {
            try {
              const flow = await api.createFlow(project.id, name, {
                name,
                start: 'api1',
                blocks: [
                  {
                    id: 'api1',
                    type: 'api',
                    config: { method: 'GET', url: 'https://api.example.com/', timeoutMs: 10000 },
                    position: { x: 80, y: 120 },
                  },
                ],
              });
              setDialog(null);
              props.onOpen(flow.id);
            } catch (err) {
              toast.error(err);
            }
          }}
        />
      )}
      {dialog?.kind === 'rename' && (
        <NameDialog
          title="Rename flow"
          submit="Rename"
          initial={dialog.flow.name}
          onClose={() => setDialog(null)}
          onSubmit={async (name) => {
            try {
              await api.updateFlow(project.id, dialog.flow.id, { name });
              setDialog(null);
              await load();
            } catch (err) {
              toast.error(err);
            }
          }}
        />
      )}
      {dialog?.kind === 'delete' && (
        <Modal title={`Delete ${dialog.flow.name}?`} onClose={() => setDialog(null)}>
          <p>The flow and its definition are deleted. Its run history stays until retention removes it.</p>
          <div className="actions">
            <button onClick={() => setDialog(null)}>Cancel</button>
            <button
              className="danger-solid"
              data-testid="confirm-delete-flow"
              onClick={async () => {
                try {
                  await api.deleteFlow(project.id, dialog.flow.id);
                  setDialog(null);
                  await load();
                } catch (err) {
                  toast.error(err);
                }
              }}
            >
              Delete
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}

export function NameDialog(props: {
  title: string;
  submit: string;
  initial: string;
  onClose: () => void;
  onSubmit: (name: string) => Promise<void>;
}) {
  const [name, setName] = useState(props.initial);
  const [busy, setBusy] = useState(false);
  return (
    <Modal title={props.title} onClose={props.onClose} testId="name-dialog">
      <form
        onSubmit={async (ev) => {
          ev.preventDefault();
          if (!name.trim()) return;
          setBusy(true);
          await props.onSubmit(name.trim());
          setBusy(false);
        }}
      >
        <label className="field">
          <span>Name</span>
          <input data-testid="name-input" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-testid="name-submit" disabled={!name.trim() || busy}>
            {props.submit}
          </button>
        </div>
      </form>
    </Modal>
  );
}
