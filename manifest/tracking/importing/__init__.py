"""Import into MLflow: planning (:mod:`.prepare`: everything checked before the store is touched),
one run (:mod:`.run`, with :mod:`.metrics` and :mod:`.models`), and many (:mod:`.batch`)."""
