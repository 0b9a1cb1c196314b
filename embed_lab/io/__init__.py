"""`emb import` / `emb export`: convert BEIR, FlagEmbedding, triplet and Hugging Face data to a
lab's splits and back. One module per format; heavy packages (datasets, pyarrow) are imported
only by the formats that need them, so the CLI starts fast.
"""
