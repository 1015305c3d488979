-- The NLU's model registry: every model trained from the knowledge base, numbered, with its evaluation
-- (cross-validation over the training phrases and the editors' held-out set) and the serialized model. Exactly
-- one model is active at a time; every node serves the active one. A model worse than the active one on the
-- held-out set stays `ready` with the reason until an editor confirms it; older models are `retired` and can
-- be activated again (rollback).
CREATE TABLE IF NOT EXISTS nlu_models (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kb_version text NOT NULL,
  -- auto: started when the KB changed (or none was active); manual: an editor's retrain.
  trigger text NOT NULL DEFAULT 'auto' CHECK (trigger IN ('auto', 'manual')),
  status text NOT NULL DEFAULT 'training'
    CHECK (status IN ('training', 'ready', 'active', 'rejected', 'retired', 'failed')),
  -- {"phase": "preparing|cross_validation|training|held_out|done", "fold": k, "folds": n, "share": 0..1}
  progress jsonb NOT NULL DEFAULT '{"phase": "preparing", "share": 0}'::jsonb,
  model_version text,
  training_size integer,
  -- {"crossValidation": EvalReport, "heldOut": EvalReport | null, "activeHeldOut": EvalReport | null}
  evaluation jsonb,
  model text,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  activated_at timestamptz,
  activated_by text,
  -- Why it was not activated by itself (worse on the held-out set), or why training failed.
  reason text
);
CREATE UNIQUE INDEX IF NOT EXISTS nlu_models_one_active ON nlu_models ((true)) WHERE status = 'active';
-- The KB's change starts one automatic training per KB version, whichever node sees it first.
CREATE UNIQUE INDEX IF NOT EXISTS nlu_models_auto_once ON nlu_models (kb_version)
  WHERE trigger = 'auto' AND status <> 'failed';
CREATE INDEX IF NOT EXISTS nlu_models_recent ON nlu_models (id DESC);
