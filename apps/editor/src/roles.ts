// What each workspace role may do in the editor (SPEC invariant 10). The server enforces the
// same rules; the editor hides what a role cannot do so nobody meets a 403 by surprise.
import type { Role } from './api';

export interface Permissions {
  /** create, change, delete secrets and their overrides; convert to/from settings */
  manageSecrets: boolean;
  /** reveal and copy a masked value */
  reveal: boolean;
  /** create, change, delete flows and settings; run flows; export/import/duplicate */
  edit: boolean;
  /** delete the project */
  deleteProject: boolean;
}

export function permissionsFor(role: Role | undefined): Permissions {
  const admin = role === 'owner' || role === 'admin';
  const editor = admin || role === 'editor';
  return { manageSecrets: admin, reveal: admin, edit: editor, deleteProject: admin };
}
