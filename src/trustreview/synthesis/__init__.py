"""From tagged studies to what a review publishes: tables (the PRISMA 2020 counts among
them), citations, figures, the HTML and Word reports, what changed since the last run. It
may import ``corpus``, ``io``, ``base``, the schema and the errors: it takes predictions
and never tags."""
