// The secrets manager: list with search and type filter; create and edit per type; per
// environment values with the default fallback shown; masked values as a fixed number of dots
// with Reveal and Copy for owners/admins (one environment at a time); `missing` badges after
// import; delete by typing the name (lists flows that use it); convert to a setting.
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError } from '../api';
import type { SecretMeta, SecretUsage, SecretValue } from '../api';
import { EnvBadges } from '../flows/secret-dropdown';
import { Modal } from '../modal';
import { useProject } from '../project-context';
import { useToast } from '../toast';
import { SecretForm } from './secret-form';
import { draftValue, SecretValueInput } from './secret-value-input';
import type { Draft } from './secret-value-input';

/** Always the same number of dots: a masked value's length is never shown. */
export const DOTS = '••••••••';

export default function SecretsPage() {
  const { project, secrets, perms, environments, reloadSecrets } = useProject();
  const [search, setSearch] = useState('');
  const [type, setType] = useState('');
  const [loaded, setLoaded] = useState(false);
  const [dialog, setDialog] = useState<
    { kind: 'create' } | { kind: 'open' | 'edit' | 'delete' | 'convert'; name: string } | null
  >(null);

  useEffect(() => {
    void reloadSecrets().then(() => setLoaded(true));
  }, [reloadSecrets]);

  const list = useMemo(() => {
    const q = search.toLowerCase();
    return secrets.filter(
      (s) =>
        (!type || s.type === type) &&
        (!q || s.name.toLowerCase().includes(q) || (s.description ?? '').toLowerCase().includes(q)),
    );
  }, [secrets, search, type]);
  const current =
    dialog && dialog.kind !== 'create' ? secrets.find((s) => s.name === dialog.name) : undefined;

  return (
    <section className="page" data-testid="secrets-page">
      <header className="page-head">
        <div>
          <h1>Secrets</h1>
          <p className="muted">
            Encrypted values, resolved only when an API block sends its request. Flows reference them as{' '}
            <code>&lt;secret:NAME&gt;</code>.
          </p>
        </div>
        {perms.manageSecrets && (
          <button className="primary" data-testid="new-secret" onClick={() => setDialog({ kind: 'create' })}>
            + New secret
          </button>
        )}
      </header>
      <div className="toolbar">
        <input
          type="search"
          placeholder="Search by name or description"
          aria-label="Search secrets"
          data-testid="secrets-search"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <select
          aria-label="Filter by type"
          data-testid="secrets-type-filter"
          value={type}
          onChange={(e) => setType(e.target.value)}
        >
          <option value="">All types</option>
          <option value="text">text</option>
          <option value="basic">basic</option>
          <option value="oauth2">oauth2</option>
          <option value="binary">binary</option>
        </select>
        {!perms.manageSecrets && (
          <span className="muted small">
            Your role can use secrets in flows but not create, change or reveal them.
          </span>
        )}
      </div>
      {!loaded && secrets.length === 0 ? (
        <div className="skeleton-list">
          <div className="skeleton" />
          <div className="skeleton" />
        </div>
      ) : secrets.length === 0 ? (
        <div className="empty" data-testid="secrets-empty">
          <h2>No secrets yet</h2>
          <p className="muted">Create one here, or by typing &lt; in any API block field.</p>
        </div>
      ) : (
        <table className="grid" data-testid="secrets-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Visibility</th>
              <th>Values</th>
              <th>Used by</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <tr key={s.name} data-testid={`secret-row-${s.name}`}>
                <td>
                  <button
                    className="linklike dd-name"
                    onClick={() => setDialog({ kind: 'open', name: s.name })}
                    data-testid="open-secret"
                  >
                    {s.name}
                  </button>
                  {s.description && <div className="muted small">{s.description}</div>}
                  {s.allowedHosts?.length ? (
                    <div className="muted small">hosts: {s.allowedHosts.join(', ')}</div>
                  ) : null}
                </td>
                <td>
                  <span className="badge type">{s.type}</span>
                </td>
                <td>
                  <span className={`badge vis-${s.visibility}`}>{s.visibility}</span>
                </td>
                <td>
                  <EnvBadges secret={s} environments={environments} />
                  {(s.missing?.length ?? 0) > 0 && (
                    <span className="badge missing" data-testid="missing-badge">
                      missing
                    </span>
                  )}
                </td>
                <td className="small">{usedByText(s)}</td>
                <td style={{ whiteSpace: 'nowrap' }}>
                  {perms.manageSecrets && (
                    <>
                      <button
                        className="ghost small"
                        onClick={() => setDialog({ kind: 'edit', name: s.name })}
                        data-testid="edit-secret"
                      >
                        Edit
                      </button>
                      <button
                        className="ghost small danger"
                        onClick={() => setDialog({ kind: 'delete', name: s.name })}
                        data-testid="delete-secret"
                      >
                        Delete
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
            {list.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  No secret matches.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {dialog?.kind === 'create' && (
        <Modal title="New secret" onClose={() => setDialog(null)} wide testId="secret-dialog">
          <SecretForm onCancel={() => setDialog(null)} onDone={() => setDialog(null)} />
        </Modal>
      )}
      {dialog?.kind === 'edit' && current && (
        <Modal title={`Edit ${current.name}`} onClose={() => setDialog(null)} wide testId="secret-dialog">
          <SecretForm existing={current} onCancel={() => setDialog(null)} onDone={() => setDialog(null)} />
        </Modal>
      )}
      {dialog?.kind === 'open' && current && (
        <SecretDetail
          key={current.name}
          secret={current}
          projectId={project.id}
          onClose={() => setDialog(null)}
          onAction={(kind) => setDialog({ kind, name: current.name })}
        />
      )}
      {dialog?.kind === 'delete' && current && (
        <DeleteSecret secret={current} onClose={() => setDialog(null)} />
      )}
      {dialog?.kind === 'convert' && current && (
        <ConvertToSetting secret={current} onClose={() => setDialog(null)} />
      )}
    </section>
  );
}

function usedByText(s: SecretMeta): string {
  const u = s.usedBy ?? [];
  if (!u.length) return '—';
  const names = u.map((x) => (typeof x === 'string' ? x : (x.flowName ?? x.flowId)));
  return [...new Set(names)].join(', ');
}

function show(v: SecretValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 1);
}

function SecretDetail(props: {
  secret: SecretMeta;
  projectId: string;
  onClose: () => void;
  onAction: (k: 'edit' | 'delete' | 'convert') => void;
}) {
  const { perms, environments, reloadSecrets } = useProject();
  const toast = useToast();
  const s = props.secret;
  const [revealed, setRevealed] = useState<{ env: string; value: string } | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft>({});
  const missing = new Set(s.missing ?? []);
  const canReveal = perms.reveal && s.visibility === 'masked' && !s.source;

  const reveal = async (env: string) => {
    try {
      const { value } = await api.reveal(props.projectId, s.name, env === 'default' ? undefined : env);
      setRevealed({ env, value: show(value) });
    } catch (err) {
      toast.error(err);
    }
  };

  const saveValue = async (env: string) => {
    const v = draftValue(s.type, draft);
    if (v === undefined) return;
    try {
      if (env === 'default') await api.updateSecret(props.projectId, s.name, { value: v });
      else await api.putOverride(props.projectId, s.name, env, v);
      setDraft({});
      setEditing(null);
      setRevealed(null);
      toast.ok(`Value for ${env} saved`);
      await reloadSecrets();
    } catch (err) {
      toast.error(err);
    }
  };

  return (
    <Modal title={s.name} onClose={props.onClose} wide testId="secret-detail">
      <p>
        <span className="badge type">{s.type}</span>{' '}
        <span className={`badge vis-${s.visibility}`}>{s.visibility}</span>{' '}
        {s.allowedHosts?.length ? (
          <span className="muted small">allowed hosts: {s.allowedHosts.join(', ')}</span>
        ) : (
          <span className="muted small">any host</span>
        )}
      </p>
      {s.description && <p className="muted">{s.description}</p>}
      {s.source && (
        <p className="note">
          Value kept in external store <strong>{s.source.store}</strong> (ref <code>{s.source.ref}</code>);
          never revealed.
        </p>
      )}
      <h3>Values</h3>
      <div data-testid="secret-values">
        {['default', ...environments].map((env) => {
          const has = s.values?.[env] === true;
          const inherits = !has && env !== 'default' && s.values?.default === true;
          return (
            <div key={env} className="value-row" data-testid={`value-row-${env}`}>
              <strong>{env}</strong>
              <span>
                {missing.has(env) ? (
                  <span className="badge missing">missing — enter a value</span>
                ) : has ? (
                  revealed?.env === env ? (
                    <span className="revealed" data-testid="revealed-value">
                      {revealed.value}
                    </span>
                  ) : (
                    <span className="masked" aria-label="hidden value" data-testid="masked-value">
                      {DOTS}
                    </span>
                  )
                ) : inherits ? (
                  <span className="fallback">uses the default value</span>
                ) : (
                  <span className="fallback">no value — runs in {env} fail</span>
                )}
              </span>
              <span style={{ display: 'flex', gap: 4 }}>
                {has && canReveal && revealed?.env !== env && (
                  <button className="small" data-testid={`reveal-${env}`} onClick={() => void reveal(env)}>
                    Reveal
                  </button>
                )}
                {revealed?.env === env && (
                  <>
                    <button
                      className="small"
                      data-testid={`copy-${env}`}
                      onClick={async () => {
                        try {
                          await navigator.clipboard.writeText(revealed.value);
                          toast.ok('Copied');
                        } catch {
                          toast.error(new Error('The clipboard is not available here'));
                        }
                      }}
                    >
                      Copy
                    </button>
                    <button className="small" onClick={() => setRevealed(null)} data-testid={`hide-${env}`}>
                      Hide
                    </button>
                  </>
                )}
                {perms.manageSecrets && !s.source && (
                  <button
                    className="small"
                    data-testid={`set-value-${env}`}
                    onClick={() => {
                      setDraft({});
                      setEditing(editing === env ? null : env);
                    }}
                  >
                    {has ? 'Replace' : 'Set'}
                  </button>
                )}
                {perms.manageSecrets && has && env !== 'default' && (
                  <button
                    className="small ghost danger"
                    title="Remove the override (the default applies)"
                    onClick={async () => {
                      try {
                        await api.deleteOverride(props.projectId, s.name, env);
                        setRevealed(null);
                        await reloadSecrets();
                      } catch (err) {
                        toast.error(err);
                      }
                    }}
                  >
                    Remove
                  </button>
                )}
              </span>
              {editing === env && (
                <form
                  style={{ gridColumn: '1 / -1' }}
                  className="inline-form"
                  onSubmit={(ev) => {
                    ev.preventDefault();
                    void saveValue(env);
                  }}
                >
                  <SecretValueInput
                    type={s.type}
                    draft={draft}
                    onChange={setDraft}
                    idPrefix={`value-${env}`}
                    label={`New value for ${env}`}
                  />
                  <div className="actions">
                    <button type="button" onClick={() => setEditing(null)}>
                      Cancel
                    </button>
                    <button type="submit" className="primary" data-testid={`save-value-${env}`}>
                      Save value
                    </button>
                  </div>
                </form>
              )}
            </div>
          );
        })}
      </div>
      {canReveal && (
        <p className="hint">Each reveal is audited. Only one environment is revealed at a time.</p>
      )}
      {perms.manageSecrets && (
        <div className="actions" style={{ justifyContent: 'space-between' }}>
          <button
            className="ghost"
            onClick={() => props.onAction('convert')}
            data-testid="convert-to-setting"
          >
            Convert to setting…
          </button>
          <span style={{ display: 'flex', gap: 8 }}>
            <button onClick={() => props.onAction('edit')}>Edit…</button>
            <button className="danger" onClick={() => props.onAction('delete')}>
              Delete…
            </button>
          </span>
        </div>
      )}
    </Modal>
  );
}

function DeleteSecret(props: { secret: SecretMeta; onClose: () => void }) {
  const { project, reloadSecrets } = useProject();
  const toast = useToast();
  const [typed, setTyped] = useState('');
  const [usages, setUsages] = useState<SecretUsage[] | null>(null);
  const [conflict, setConflict] = useState(false);
  useEffect(() => {
    api.usages(project.id, props.secret.name).then(setUsages, () => setUsages([]));
  }, [project.id, props.secret.name]);

  const del = async (force: boolean) => {
    try {
      await api.deleteSecret(project.id, props.secret.name, force);
      toast.ok(`Secret ${props.secret.name} deleted`);
      await reloadSecrets();
      props.onClose();
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setConflict(true);
        const d = err.details as { usages?: SecretUsage[] } | SecretUsage[] | undefined;
        const u = Array.isArray(d) ? d : d?.usages;
        if (u) setUsages(u);
      } else toast.error(err);
    }
  };

  return (
    <Modal title={`Delete ${props.secret.name}?`} onClose={props.onClose} testId="delete-secret-dialog">
      <p>
        The secret and all its values are deleted. Flows that reference it will fail validation until changed.
      </p>
      {usages === null ? (
        <p className="muted">Looking for flows that use it…</p>
      ) : usages.length ? (
        <div className="note" data-testid="secret-usages">
          Used by:
          <ul>
            {usages.map((u, i) => (
              <li key={i}>
                {u.flowName ?? u.flowId}
                {u.blockId ? ` (block ${u.blockId})` : ''}
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <p className="muted">No flow uses it.</p>
      )}
      <label className="field">
        <span>
          Type <code>{props.secret.name}</code> to confirm
        </span>
        <input
          data-testid="delete-confirm-name"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          spellCheck={false}
          autoComplete="off"
        />
      </label>
      <div className="actions">
        <button onClick={props.onClose}>Cancel</button>
        <button
          className="danger-solid"
          data-testid="delete-secret-confirm"
          disabled={typed !== props.secret.name}
          onClick={() => void del(conflict || (usages?.length ?? 0) > 0)}
        >
          {conflict || usages?.length ? 'Delete anyway' : 'Delete'}
        </button>
      </div>
    </Modal>
  );
}

function ConvertToSetting(props: { secret: SecretMeta; onClose: () => void }) {
  const { project, reloadSecrets, reloadSettings } = useProject();
  const toast = useToast();
  return (
    <Modal
      title={`Convert ${props.secret.name} to a setting?`}
      onClose={props.onClose}
      testId="convert-dialog"
    >
      <div className="alert">
        <strong>Its values are deleted.</strong>
        The setting {props.secret.name} will exist with no value until you enter one. Settings are plain text,
        visible to every member.
      </div>
      <div className="actions">
        <button onClick={props.onClose}>Cancel</button>
        <button
          className="danger-solid"
          data-testid="convert-confirm"
          onClick={async () => {
            try {
              await api.makeSetting(project.id, props.secret.name);
              toast.ok(`${props.secret.name} is now a setting`);
              await Promise.all([reloadSecrets(), reloadSettings()]);
              props.onClose();
            } catch (err) {
              toast.error(err);
            }
          }}
        >
          Delete values and convert
        </button>
      </div>
    </Modal>
  );
}
