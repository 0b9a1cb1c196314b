"""`emb check --fix`: repair what the check reports (leaks, duplicates, false negatives) safely.

Gold is never changed; originals go to data/.before-fix/, removed lines to data/fix-report.jsonl.
"""
