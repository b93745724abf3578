"""The corpus and its validation: every row of the studies table ends up included,
excluded with its reason, or an error naming file, line, field and fix (``validate``). It
may import ``io``, ``dedup`` (the one title normaliser), ``base`` and the schema."""
