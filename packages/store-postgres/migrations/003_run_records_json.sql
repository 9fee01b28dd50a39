-- flowsafe schema, version 3: the JSON parts of a run record are stored as written (json, not
-- jsonb: nothing queries inside them, and converting every record to jsonb on every write cost
-- the server time on the hot path of PostgreSQL mode), and the index of unfinished runs goes
-- (no query used it, and it made every final record of a run a non-HOT update with new
-- entries in every index of the table).
DROP INDEX IF EXISTS runs_running_idx;
ALTER TABLE runs
  ALTER COLUMN steps TYPE json USING steps::json,
  ALTER COLUMN output TYPE json USING output::json,
  ALTER COLUMN error TYPE json USING error::json,
  ALTER COLUMN input TYPE json USING input::json;
