-- flowsafe schema, version 2: the input of a queued run (flow variables, already passed
-- through the project's redactor), so that a worker process can execute it.
ALTER TABLE runs ADD COLUMN input jsonb;
