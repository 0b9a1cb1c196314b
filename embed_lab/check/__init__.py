"""`emb check`: validate a lab's train/dev/gold splits (schema, duplicates, leaks, stats).

Kept light: the heavy modules are imported where they are used, so the CLI starts fast.
"""
