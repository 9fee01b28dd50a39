// The editor shell: sign-in by pasted token, workspace and project pickers, navigation
// between flows, secrets and settings, and the project menu. Heavy screens load lazily so
// the first load (the flow list) stays light.
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { api, ApiError, getToken, setToken } from './api';
import type { Me, Project, WorkspaceRef } from './api';
import { FlowList } from './flows/flow-list';
import { Modal } from './modal';
import { ProjectMenu } from './project/project-menu';
import { ProjectProvider } from './project-context';
import { ToastProvider, useToast } from './toast';
import { useHashRoute } from './use-hash-route';

const FlowEditor = lazy(() => import('./flows/flow-editor'));
const SecretsPage = lazy(() => import('./secrets/secrets-page'));
const SettingsPage = lazy(() => import('./settings/settings-page'));
const SecretStoresPage = lazy(() => import('./stores/secret-stores-page'));

export function App() {
  return (
    <ToastProvider>
      <Root />
    </ToastProvider>
  );
}

function Root() {
  const [token, setTok] = useState<string | null>(() => getToken());
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!token) return;
    let live = true;
    api.me().then(
      (m) => live && setMe(m),
      (err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 401) {
          setToken(null);
          setTok(null);
          setError('That token was not accepted.');
        } else setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => {
      live = false;
    };
  }, [token]);

  const signOut = useCallback(() => {
    setToken(null);
    sessionStorage.clear();
    setMe(null);
    setTok(null);
  }, []);

  if (!token)
    return (
      <SignIn
        error={error}
        onToken={(t) => {
          setError(null);
          setToken(t);
          setTok(t);
        }}
      />
    );
  if (!me)
    return (
      <div className="center-page">
        {error ? (
          <div className="card">
            <p className="error-text">{error}</p>
            <button onClick={signOut}>Sign out</button>
          </div>
        ) : (
          <div className="spinner" aria-label="Loading" />
        )}
      </div>
    );
  return <Shell me={me} onSignOut={signOut} onMe={setMe} />;
}

function SignIn(props: { error: string | null; onToken: (t: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <div className="center-page signin">
      <form
        className="card signin-card"
        onSubmit={(ev) => {
          ev.preventDefault();
          if (value.trim()) props.onToken(value.trim());
        }}
      >
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden>
            ◆
          </span>{' '}
          flowsafe
        </div>
        <p className="muted">
          Paste your access token. It stays in this tab only (session storage) and is never put in a URL.
        </p>
        <label className="field">
          <span>Access token</span>
          <input
            type="password"
            autoComplete="off"
            data-testid="token-input"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            placeholder="fs_…"
            autoFocus
          />
        </label>
        {props.error && (
          <p className="error-text" role="alert">
            {props.error}
          </p>
        )}
        <button type="submit" className="primary" data-testid="signin-button" disabled={!value.trim()}>
          Sign in
        </button>
        <p className="muted small">
          The first owner token is in <code>&lt;dataDir&gt;/owner.token</code> or the value of{' '}
          <code>FLOWSAFE_BOOTSTRAP_TOKEN</code>.
        </p>
      </form>
    </div>
  );
}

function Shell(props: { me: Me; onSignOut: () => void; onMe: (m: Me) => void }) {
  const toast = useToast();
  const { me } = props;
  const [wsId, setWsId] = useState<string>(() => {
    const saved = sessionStorage.getItem('flowsafe.ws');
    return me.workspaces.find((w) => w.id === saved)?.id ?? me.workspaces[0]?.id ?? '';
  });
  const ws: WorkspaceRef | undefined = me.workspaces.find((w) => w.id === wsId);
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [projectId, setProjectId] = useState<string>(() => sessionStorage.getItem('flowsafe.project') ?? '');
  const [creating, setCreating] = useState(false);
  const [route, navigate] = useHashRoute();

  const loadProjects = useCallback(
    async (select?: string) => {
      if (!wsId) return;
      try {
        const list = await api.projects(wsId);
        setProjects(list);
        setProjectId((cur) => {
          const want = select ?? cur;
          return list.find((p) => p.id === want)?.id ?? list[0]?.id ?? '';
        });
      } catch (err) {
        toast.error(err);
        setProjects([]);
      }
    },
    [wsId, toast],
  );

  useEffect(() => {
    sessionStorage.setItem('flowsafe.ws', wsId);
    setProjects(null);
    void loadProjects();
  }, [wsId, loadProjects]);
  useEffect(() => {
    sessionStorage.setItem('flowsafe.project', projectId);
  }, [projectId]);

  const project = projects?.find((p) => p.id === projectId);
  const canEdit = ws?.role !== 'viewer';

  return (
    <div className="shell">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden>
            ◆
          </span>{' '}
          flowsafe
        </div>
        <label className="picker">
          <span className="sr-only">Workspace</span>
          <select data-testid="workspace-select" value={wsId} onChange={(e) => setWsId(e.target.value)}>
            {me.workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <span className="sep">/</span>
        <label className="picker">
          <span className="sr-only">Project</span>
          <select
            data-testid="project-select"
            value={projectId}
            onChange={(e) => {
              setProjectId(e.target.value);
              navigate({ view: 'flows' });
            }}
            disabled={!projects?.length}
          >
            {!projects?.length && <option value="">No project</option>}
            {projects?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        {canEdit && (
          <button className="ghost" data-testid="new-project" onClick={() => setCreating(true)}>
            + Project
          </button>
        )}
        {project && ws && (
          <ProjectMenu
            project={project}
            workspaceId={ws.id}
            role={ws.role}
            onProjectCreated={(id) => {
              void loadProjects(id);
              navigate({ view: 'flows' });
            }}
            onProjectDeleted={() => void loadProjects('')}
          />
        )}
        <div className="spacer" />
        <span className="whoami" data-testid="whoami">
          {me.user.name}{' '}
          <span className={`badge role-${ws?.role ?? 'viewer'}`} data-testid="role-badge">
            {ws?.role}
          </span>
        </span>
        <button className="ghost" onClick={props.onSignOut} data-testid="signout">
          Sign out
        </button>
      </header>
      {project && ws ? (
        <ProjectProvider key={project.id} project={project} workspaceId={ws.id} role={ws.role}>
          <div className="body">
            <nav className="sidenav" aria-label="Project">
              <NavLink
                active={route.view === 'flows' || route.view === 'flow'}
                onClick={() => navigate({ view: 'flows' })}
                testId="nav-flows"
              >
                Flows
              </NavLink>
              <NavLink
                active={route.view === 'secrets'}
                onClick={() => navigate({ view: 'secrets' })}
                testId="nav-secrets"
              >
                Secrets
              </NavLink>
              <NavLink
                active={route.view === 'settings'}
                onClick={() => navigate({ view: 'settings' })}
                testId="nav-settings"
              >
                Settings
              </NavLink>
              {(ws.role === 'owner' || ws.role === 'admin') && (
                <>
                  <div className="nav-heading muted small">Workspace</div>
                  <NavLink
                    active={route.view === 'stores'}
                    onClick={() => navigate({ view: 'stores' })}
                    testId="nav-stores"
                  >
                    Secret stores
                  </NavLink>
                </>
              )}
            </nav>
            <main className="main">
              <Suspense fallback={<div className="loading">Loading…</div>}>
                {route.view === 'flows' && <FlowList onOpen={(id) => navigate({ view: 'flow', id })} />}
                {route.view === 'flow' && (
                  <FlowEditor key={route.id} flowId={route.id} onBack={() => navigate({ view: 'flows' })} />
                )}
                {route.view === 'secrets' && <SecretsPage />}
                {route.view === 'settings' && <SettingsPage />}
                {route.view === 'stores' && <SecretStoresPage workspaceId={ws.id} />}
              </Suspense>
            </main>
          </div>
        </ProjectProvider>
      ) : (
        <div className="center-page">
          {projects === null ? (
            <div className="spinner" aria-label="Loading" />
          ) : (
            <div className="empty card" data-testid="no-project">
              <h2>No project yet</h2>
              <p className="muted">A project holds flows, secrets, settings and environments.</p>
              {canEdit && (
                <button className="primary" onClick={() => setCreating(true)}>
                  Create a project
                </button>
              )}
            </div>
          )}
        </div>
      )}
      {creating && (
        <NewProject
          onClose={() => setCreating(false)}
          onCreate={async (name) => {
            try {
              const p = await api.createProject(wsId, name);
              setCreating(false);
              toast.ok(`Project ${p.name} created`);
              await loadProjects(p.id);
              navigate({ view: 'flows' });
            } catch (err) {
              toast.error(err);
            }
          }}
        />
      )}
    </div>
  );
}

function NavLink(props: { active: boolean; onClick: () => void; children: string; testId: string }) {
  return (
    <button
      className={`navlink${props.active ? ' active' : ''}`}
      aria-current={props.active ? 'page' : undefined}
      onClick={props.onClick}
      data-testid={props.testId}
    >
      {props.children}
    </button>
  );
}

function NewProject(props: { onClose: () => void; onCreate: (name: string) => Promise<void> }) {
  const [name, setName] = useState('');
  return (
    <Modal title="New project" onClose={props.onClose} testId="new-project-dialog">
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          if (name.trim()) void props.onCreate(name.trim());
        }}
      >
        <label className="field">
          <span>Name</span>
          <input data-testid="project-name" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-testid="project-create" disabled={!name.trim()}>
            Create
          </button>
        </div>
      </form>
    </Modal>
  );
}
