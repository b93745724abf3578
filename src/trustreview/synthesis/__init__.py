"""From tagged studies to what a review publishes: tables, citations, figures, the HTML and
Word reports."""
