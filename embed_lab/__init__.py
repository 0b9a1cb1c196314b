"""embed-lab: reproducible labs for fine-tuning information-retrieval embedding models."""

__version__ = "0.1.0"
