"""The rule language: rule files, their schema and loading, the rule-set cache, selection,
examples, and rules written out for people."""
