// Settings: plain named values with per-environment overrides, used in templates as
// {{settings.NAME}}. Owners and admins can convert one into a secret (its values move into
// sealed storage). Saving a value that is a secret's value is refused by push protection.
import { useEffect, useState } from 'react';
import { api, ApiError } from '../api';
import type { Setting, Visibility } from '../api';
import { Modal } from '../modal';
import { useProject } from '../project-context';
import { useToast } from '../toast';
import { useLoadedList } from '../use-loaded-list';

export default function SettingsPage() {
  const { project, perms, environments, reloadSettings, reloadSecrets, reloadEnvironments } = useProject();
  const [newEnv, setNewEnv] = useState('');
  const toast = useToast();
  const [dialog, setDialog] = useState<
    { kind: 'edit'; setting?: Setting } | { kind: 'convert' | 'delete'; setting: Setting } | null
  >(null);

  const [settings, load] = useLoadedList(project.id, api.settings);

  const done = async () => {
    setDialog(null);
    await Promise.all([load(), reloadSettings()]);
  };

  return (
    <section className="page" data-testid="settings-page">
      <header className="page-head">
        <div>
          <h1>Settings</h1>
          <p className="muted">
            Plain values (not secret) used as <code>{'{{settings.NAME}}'}</code>, with per-environment
            overrides.
          </p>
        </div>
        {perms.edit && (
          <button className="primary" data-testid="new-setting" onClick={() => setDialog({ kind: 'edit' })}>
            + New setting
          </button>
        )}
      </header>
      {perms.manageSecrets && <AllowedHostsPolicy projectId={project.id} initial={project.policy} />}
      <div className="toolbar" data-testid="environments">
        <span className="field-label">Environments:</span>
        {environments.map((e) => (
          <span key={e} className="badge">
            {e}
          </span>
        ))}
        {perms.manageSecrets && (
          <form
            className="toolbar"
            style={{ margin: 0 }}
            onSubmit={async (ev) => {
              ev.preventDefault();
              try {
                await api.addEnvironment(project.id, newEnv.trim());
                setNewEnv('');
                await reloadEnvironments();
              } catch (err) {
                toast.error(err);
              }
            }}
          >
            <input
              aria-label="New environment"
              placeholder="staging"
              value={newEnv}
              onChange={(e) => setNewEnv(e.target.value)}
              style={{ width: 140 }}
              data-testid="new-env"
            />
            <button type="submit" className="small" disabled={!newEnv.trim()}>
              + Add environment
            </button>
          </form>
        )}
      </div>
      {settings === null ? (
        <div className="skeleton" />
      ) : settings.length === 0 ? (
        <div className="empty">
          <h2>No settings yet</h2>
          <p className="muted">
            Settings hold things like a region or a base URL that differ per environment.
          </p>
        </div>
      ) : (
        <table className="grid" data-testid="settings-table">
          <thead>
            <tr>
              <th>Name</th>
              {['default', ...environments].map((e) => (
                <th key={e}>{e}</th>
              ))}
              <th />
            </tr>
          </thead>
          <tbody>
            {settings.map((s) => (
              <tr key={s.name} data-testid={`setting-row-${s.name}`}>
                <td className="dd-name">{s.name}</td>
                {['default', ...environments].map((e) => (
                  <td key={e} className="mono">
                    {s.values[e] ??
                      (e !== 'default' && s.values.default !== undefined ? (
                        <span className="fallback">default</span>
                      ) : (
                        <span className="fallback">—</span>
                      ))}
                  </td>
                ))}
                <td style={{ whiteSpace: 'nowrap' }}>
                  {perms.edit && (
                    <button className="ghost small" onClick={() => setDialog({ kind: 'edit', setting: s })}>
                      Edit
                    </button>
                  )}
                  {perms.manageSecrets && (
                    <button
                      className="ghost small"
                      data-testid="make-secret"
                      onClick={() => setDialog({ kind: 'convert', setting: s })}
                    >
                      Make secret
                    </button>
                  )}
                  {perms.edit && (
                    <button
                      className="ghost small danger"
                      onClick={() => setDialog({ kind: 'delete', setting: s })}
                    >
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialog?.kind === 'edit' && (
        <SettingForm setting={dialog.setting} onClose={() => setDialog(null)} onDone={done} />
      )}
      {dialog?.kind === 'convert' && (
        <ConvertToSecret
          setting={dialog.setting}
          onClose={() => setDialog(null)}
          onDone={async () => {
            await reloadSecrets();
            await done();
          }}
        />
      )}
      {dialog?.kind === 'delete' && (
        <Modal title={`Delete setting ${dialog.setting.name}?`} onClose={() => setDialog(null)}>
          <p>Flows that use {`{{settings.${dialog.setting.name}}}`} will render it empty.</p>
          <div className="actions">
            <button onClick={() => setDialog(null)}>Cancel</button>
            <button
              className="danger-solid"
              onClick={async () => {
                try {
                  await api.deleteSetting(project.id, dialog.setting.name);
                  await done();
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

function SettingForm(props: { setting?: Setting; onClose: () => void; onDone: () => Promise<void> }) {
  const { project, environments } = useProject();
  const toast = useToast();
  const [name, setName] = useState(props.setting?.name ?? '');
  const [values, setValues] = useState<Record<string, string>>(props.setting?.values ?? {});
  const [push, setPush] = useState<string | null>(null);
  return (
    <Modal
      title={props.setting ? `Edit ${props.setting.name}` : 'New setting'}
      onClose={props.onClose}
      testId="setting-dialog"
    >
      <form
        onSubmit={async (ev) => {
          ev.preventDefault();
          setPush(null);
          const envs: Record<string, string> = {};
          for (const e of environments) if (values[e]) envs[e] = values[e];
          try {
            await api.putSetting(
              project.id,
              name,
              values.default ?? '',
              Object.keys(envs).length ? envs : undefined,
            );
            await props.onDone();
          } catch (err) {
            if (err instanceof ApiError && err.status === 422) setPush(err.message);
            else toast.error(err);
          }
        }}
      >
        <label className="field">
          <span>Name</span>
          <input
            data-testid="setting-name"
            value={name}
            disabled={!!props.setting}
            onChange={(e) => setName(e.target.value)}
            spellCheck={false}
          />
        </label>
        {['default', ...environments].map((env) => (
          <label className="field" key={env}>
            <span>{env === 'default' ? 'Default value' : `${env} (empty → default)`}</span>
            <input
              data-testid={`setting-value-${env}`}
              value={values[env] ?? ''}
              onChange={(e) => setValues({ ...values, [env]: e.target.value })}
              spellCheck={false}
            />
          </label>
        ))}
        {push && (
          <div className="alert" role="alert" data-testid="push-protection">
            <strong>Not saved: this looks like a secret's value.</strong>
            {push}
          </div>
        )}
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-testid="setting-save" disabled={!name}>
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}

function ConvertToSecret(props: { setting: Setting; onClose: () => void; onDone: () => Promise<void> }) {
  const { project } = useProject();
  const toast = useToast();
  const [visibility, setVisibility] = useState<Visibility>('masked');
  return (
    <Modal title={`Make ${props.setting.name} a secret?`} onClose={props.onClose} testId="make-secret-dialog">
      <p className="note">
        Its values move into sealed storage and the plain values are removed. Flows must then use{' '}
        <code>&lt;secret:{props.setting.name}&gt;</code> instead of{' '}
        <code>{`{{settings.${props.setting.name}}}`}</code>.
      </p>
      <label className="field">
        <span>Visibility</span>
        <select
          value={visibility}
          onChange={(e) => setVisibility(e.target.value as Visibility)}
          data-testid="make-secret-visibility"
        >
          <option value="masked">masked</option>
          <option value="restricted">restricted</option>
        </select>
      </label>
      <div className="actions">
        <button onClick={props.onClose}>Cancel</button>
        <button
          className="primary"
          data-testid="make-secret-confirm"
          onClick={async () => {
            try {
              await api.makeSecret(project.id, props.setting.name, visibility);
              toast.ok(`${props.setting.name} is now a secret`);
              await props.onDone();
            } catch (err) {
              toast.error(err);
            }
          }}
        >
          Make secret
        </button>
      </div>
    </Modal>
  );
}

/** Project policy requireAllowedHosts (SPEC §12): owners and admins switch it; saving a flow then
 *  needs allowed hosts on every secret it uses. */
function AllowedHostsPolicy(props: { projectId: string; initial?: { requireAllowedHosts: boolean } }) {
  const toast = useToast();
  const [on, setOn] = useState(props.initial?.requireAllowedHosts ?? false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    api.project(props.projectId).then(
      (p) => live && setOn(p.policy?.requireAllowedHosts ?? false),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [props.projectId]);
  return (
    <div className="toolbar" data-testid="policy">
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          data-testid="require-allowed-hosts"
          checked={on}
          disabled={busy}
          onChange={async (e) => {
            const next = e.target.checked;
            setOn(next);
            setBusy(true);
            try {
              const p = await api.updateProject(props.projectId, { policy: { requireAllowedHosts: next } });
              setOn(p.policy?.requireAllowedHosts ?? next);
              toast.ok(
                next
                  ? 'Flows now need allowed hosts on every secret they use'
                  : 'Allowed hosts are optional again',
              );
            } catch (err) {
              setOn(!next);
              toast.error(err);
            } finally {
              setBusy(false);
            }
          }}
        />
        <span>
          <strong>Require allowed hosts</strong>{' '}
          <span className="muted small">
            — a flow that uses a secret without allowed hosts cannot be saved, so no editor can send a secret
            to a host nobody approved.
          </span>
        </span>
      </label>
    </div>
  );
}
