"""The change layer: what a commit or a diff adds on top of the pipeline — which lines are new and
their context (:mod:`.gitdiff`), AI provenance (:mod:`.provenance`), baselines of known findings
(:mod:`.baseline`) and the pre-commit hook (:mod:`.hook`)."""
