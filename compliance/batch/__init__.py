"""Many proposals at once: batches of any size in bounded windows, the progress line, and the
impact of a rule change."""
