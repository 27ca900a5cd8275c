"""The review: a proposal and a rule set in, findings and a decision out; batches, and the impact
of a rule change."""
