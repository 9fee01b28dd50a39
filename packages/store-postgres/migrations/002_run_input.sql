-- flowsafe schema, version 2: the input of a queued run (flow variables, already passed
-- through the project's redactor), so that a worker process can execute it; run durations
-- keep the runner's fractional milliseconds.
ALTER TABLE runs ADD COLUMN input jsonb;
ALTER TABLE runs ALTER COLUMN duration_ms TYPE double precision;
