"""`emb check`: validate a lab's splits and corpus (data contract, duplicates, leaks, stats).

Kept light: the heavy modules are imported where they are used, so the CLI starts fast.
"""
