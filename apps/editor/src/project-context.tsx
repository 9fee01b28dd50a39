// The project the editor is working in: its environments, the caller's role and what that
// role allows, and the secret metadata list (names, types, visibility, which environments
// have values — never a value) shared by the secrets page and every secret dropdown.
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { api } from './api';
import type { Project, Role, SecretMeta } from './api';
import { permissionsFor } from './roles';
import type { Permissions } from './roles';
import { useToast } from './toast';

export interface ProjectState {
  project: Project;
  workspaceId: string;
  role: Role;
  perms: Permissions;
  environments: string[];
  secrets: SecretMeta[];
  settingNames: string[];
  reloadSecrets(): Promise<void>;
  reloadSettings(): Promise<void>;
  reloadEnvironments(): Promise<void>;
}

const Ctx = createContext<ProjectState | null>(null);

export function ProjectProvider(props: {
  project: Project;
  workspaceId: string;
  role: Role;
  children: ReactNode;
}) {
  const toast = useToast();
  const { project } = props;
  const [secrets, setSecrets] = useState<SecretMeta[]>([]);
  const [settingNames, setSettingNames] = useState<string[]>([]);
  const [environments, setEnvironments] = useState<string[]>(
    project.environments ?? ['development', 'production'],
  );

  const reloadSecrets = useCallback(async () => {
    try {
      setSecrets(await api.secrets(project.id));
    } catch (err) {
      toast.error(err);
    }
  }, [project.id, toast]);
  const reloadSettings = useCallback(async () => {
    try {
      setSettingNames((await api.settings(project.id)).map((s) => s.name));
    } catch {
      setSettingNames([]);
    }
  }, [project.id]);

  const reloadEnvironments = useCallback(async () => {
    try {
      const envs = await api.environments(project.id);
      if (envs.length) setEnvironments(envs);
    } catch {
      /* keep the project's list */
    }
  }, [project.id]);

  useEffect(() => {
    void reloadSecrets();
    void reloadSettings();
    void reloadEnvironments();
  }, [reloadSecrets, reloadSettings, reloadEnvironments]);

  return (
    <Ctx.Provider
      value={{
        project,
        workspaceId: props.workspaceId,
        role: props.role,
        perms: permissionsFor(props.role),
        environments,
        secrets,
        settingNames,
        reloadSecrets,
        reloadSettings,
        reloadEnvironments,
      }}
    >
      {props.children}
    </Ctx.Provider>
  );
}

export function useProject(): ProjectState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useProject outside ProjectProvider');
  return v;
}
