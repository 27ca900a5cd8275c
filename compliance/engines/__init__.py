"""The two engines that evaluate rules: durable_rules behind one module, and the reference
evaluator that checks it."""
