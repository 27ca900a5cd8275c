"""Reading proposals: JSON, JSON Lines, standard input and workbooks, within limits, with a source
map of where each answer came from."""
