"""Reports: one module per format, the summary they open with, redaction, and writing them out."""
