"""The ground floor: text made plain once for every reader (LaTeX, DOIs, names, ASCII
folding: ``text``), a table's rows read fast (``frames``) and the other cores (``parallel``).
Every part may import it; it imports nothing of the package but the schema."""
