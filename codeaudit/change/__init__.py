"""The change layer: what a commit or a diff adds on top of the pipeline — which lines are new
(:mod:`.gitdiff`), the clusters they form and the code around them (:mod:`.context`), AI
provenance (:mod:`.provenance`), the stricter policy for AI-written lines (:mod:`.policy`),
baselines of known findings (:mod:`.baseline`), auditors run side by side (:mod:`.forked`) and the
audit of a change itself (:mod:`.hook`), which hands the pipeline its clusters and a fold that
turns their findings into one result per file."""
