"""Reading and writing files: corpus tables, codebooks, reference files (BibTeX, RIS),
workbooks, text normalisation, and every file a run writes."""
