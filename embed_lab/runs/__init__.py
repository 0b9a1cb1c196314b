"""A lab's run records (results/<experiment>/<run id>/manifest.json): `emb runs`, `emb compare`."""
