"""Reading and writing files: corpus tables, codebooks, reference files (BibTeX, RIS,
searches as CSV), EPPI-Reviewer's JSON, workbooks, and every file a run writes. It may
import only ``base``, the schema and the errors: nothing that checks, tags or synthesises."""
