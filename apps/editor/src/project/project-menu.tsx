// Project menu: export (downloads the bundle), import a bundle as a new project, duplicate,
// delete. Bundles and duplicates never carry secret values (SPEC invariant 11); the menu says so.
import { useEffect, useRef, useState } from 'react';
import { api } from '../api';
import type { Project, Role } from '../api';
import { Modal } from '../modal';
import { permissionsFor } from '../roles';
import { useToast } from '../toast';

const NOTE =
  'Secret values are not included: secrets keep their names, types, visibility and allowed hosts, and show "missing" until a value is entered.';

export function ProjectMenu(props: {
  project: Project;
  workspaceId: string;
  role: Role;
  onProjectCreated: (id: string) => void;
  onProjectDeleted: () => void;
}) {
  const toast = useToast();
  const perms = permissionsFor(props.role);
  const [open, setOpen] = useState(false);
  const [dialog, setDialog] = useState<'export' | 'import' | 'duplicate' | 'delete' | null>(null);
  const menuRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (ev: MouseEvent) => {
      if (!menuRef.current?.contains(ev.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);

  const pick = (d: typeof dialog) => {
    setOpen(false);
    setDialog(d);
  };

  return (
    <div className="menu" ref={menuRef}>
      <button
        className="ghost"
        aria-haspopup="menu"
        aria-expanded={open}
        data-testid="project-menu"
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}
      >
        Project ▾
      </button>
      {open && (
        <div className="menu-list" role="menu" onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
          {perms.edit && (
            <>
              <button role="menuitem" data-testid="menu-export" onClick={() => pick('export')} autoFocus>
                Export…
              </button>
              <button role="menuitem" data-testid="menu-import" onClick={() => pick('import')}>
                Import…
              </button>
              <button role="menuitem" data-testid="menu-duplicate" onClick={() => pick('duplicate')}>
                Duplicate…
              </button>
            </>
          )}
          {perms.deleteProject && (
            <button
              role="menuitem"
              className="danger"
              data-testid="menu-delete-project"
              onClick={() => pick('delete')}
            >
              Delete project…
            </button>
          )}
          {!perms.edit && <div className="menu-note">Viewers can only read this project.</div>}
        </div>
      )}
      {dialog === 'export' && <ExportDialog project={props.project} onClose={() => setDialog(null)} />}
      {dialog === 'import' && (
        <ImportDialog
          workspaceId={props.workspaceId}
          onClose={() => setDialog(null)}
          onDone={(p) => {
            setDialog(null);
            toast.ok(`Imported as ${p.name}`);
            props.onProjectCreated(p.id);
          }}
        />
      )}
      {dialog === 'duplicate' && (
        <DuplicateDialog
          project={props.project}
          onClose={() => setDialog(null)}
          onDone={(p) => {
            setDialog(null);
            toast.ok(`Duplicated as ${p.name}`);
            props.onProjectCreated(p.id);
          }}
        />
      )}
      {dialog === 'delete' && (
        <DeleteProjectDialog
          project={props.project}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            props.onProjectDeleted();
          }}
        />
      )}
    </div>
  );
}

function ExportDialog(props: { project: Project; onClose: () => void }) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  return (
    <Modal title={`Export ${props.project.name}`} onClose={props.onClose} testId="export-dialog">
      <p>Download a bundle of this project's flows, settings, environments and secret definitions.</p>
      <p className="note" data-testid="export-note">
        {NOTE}
      </p>
      <div className="actions">
        <button onClick={props.onClose}>Cancel</button>
        <button
          className="primary"
          data-testid="export-download"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              const bundle = await api.exportProject(props.project.id);
              const blob = new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/json' });
              const url = URL.createObjectURL(blob);
              const a = document.createElement('a');
              a.href = url;
              a.download = `${props.project.name.replace(/[^\w.-]+/g, '_')}.flowsafe.json`;
              document.body.appendChild(a);
              a.click();
              a.remove();
              setTimeout(() => URL.revokeObjectURL(url), 1000);
              props.onClose();
            } catch (err) {
              toast.error(err);
            } finally {
              setBusy(false);
            }
          }}
        >
          Download bundle
        </button>
      </div>
    </Modal>
  );
}

function ImportDialog(props: { workspaceId: string; onClose: () => void; onDone: (p: Project) => void }) {
  const toast = useToast();
  const [bundle, setBundle] = useState<unknown>(null);
  const [fileName, setFileName] = useState('');
  const [name, setName] = useState('');
  return (
    <Modal title="Import a project" onClose={props.onClose} testId="import-dialog">
      <p className="note">{NOTE}</p>
      <label className="field">
        <span>Bundle file (.json)</span>
        <input
          type="file"
          accept="application/json,.json"
          data-testid="import-file"
          onChange={async (e) => {
            const file = e.target.files?.[0];
            if (!file) return;
            try {
              const parsed = JSON.parse(await file.text()) as { project?: { name?: string } };
              setBundle(parsed);
              setFileName(file.name);
              setName(parsed.project?.name ? `${parsed.project.name} (imported)` : '');
            } catch {
              toast.error(new Error(`${file.name} is not a JSON bundle`));
            }
          }}
        />
      </label>
      {fileName && (
        <label className="field">
          <span>Project name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} data-testid="import-name" />
        </label>
      )}
      <div className="actions">
        <button onClick={props.onClose}>Cancel</button>
        <button
          className="primary"
          data-testid="import-submit"
          disabled={!bundle}
          onClick={async () => {
            try {
              const b = bundle as { project?: Record<string, unknown> };
              const body = name ? { ...b, project: { ...(b.project ?? {}), name } } : b;
              props.onDone(await api.importProject(props.workspaceId, body));
            } catch (err) {
              toast.error(err);
            }
          }}
        >
          Import
        </button>
      </div>
    </Modal>
  );
}

function DuplicateDialog(props: { project: Project; onClose: () => void; onDone: (p: Project) => void }) {
  const toast = useToast();
  const [name, setName] = useState(`${props.project.name} copy`);
  return (
    <Modal title={`Duplicate ${props.project.name}`} onClose={props.onClose} testId="duplicate-dialog">
      <form
        onSubmit={async (ev) => {
          ev.preventDefault();
          try {
            props.onDone(await api.duplicateProject(props.project.id, name));
          } catch (err) {
            toast.error(err);
          }
        }}
      >
        <label className="field">
          <span>New project name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} data-testid="duplicate-name" />
        </label>
        <p className="note">{NOTE}</p>
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-testid="duplicate-submit" disabled={!name.trim()}>
            Duplicate
          </button>
        </div>
      </form>
    </Modal>
  );
}

function DeleteProjectDialog(props: { project: Project; onClose: () => void; onDone: () => void }) {
  const toast = useToast();
  const [typed, setTyped] = useState('');
  return (
    <Modal title={`Delete ${props.project.name}?`} onClose={props.onClose}>
      <p>Every flow, secret, setting and run of this project is deleted. Type the project name to confirm.</p>
      <label className="field">
        <span>Project name</span>
        <input value={typed} onChange={(e) => setTyped(e.target.value)} />
      </label>
      <div className="actions">
        <button onClick={props.onClose}>Cancel</button>
        <button
          className="danger-solid"
          disabled={typed !== props.project.name}
          onClick={async () => {
            try {
              await api.deleteProject(props.project.id);
              props.onDone();
            } catch (err) {
              toast.error(err);
            }
          }}
        >
          Delete project
        </button>
      </div>
    </Modal>
  );
}
