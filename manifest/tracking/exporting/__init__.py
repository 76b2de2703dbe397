"""Export from MLflow: one run (:mod:`.run`, with :mod:`.datasets` and :mod:`.models`), the runs of
an experiment (:mod:`.experiment`), and writing them to files (:mod:`.files`)."""
