"""A tiny random BERT sentence-transformer, built offline in about a second, for pipeline tests.

The WordPiece vocabulary is built from the texts it will see (the lab's data), so their words
(all but the rarest) are tokens and the untrained model already matches words; fine-tuning has to
teach it more than that. The same texts always give the same model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_model(
    out_dir: Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 2000,
    hidden_size: int = 32,
    seed: int = 0,
) -> Path:
    """Save a SentenceTransformer (random BERT + mean pooling) to `out_dir` and return it."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertModel

    fast = _tokenizer(texts, vocab_size)
    torch.manual_seed(seed)
    config = _bert_config(len(fast), hidden_size, max_positions=256)  # the lab's default length
    hf_dir = out_dir.parent / f"{out_dir.name}-hf"
    BertModel(config).save_pretrained(hf_dir)
    fast.save_pretrained(hf_dir)

    transformer = Transformer(str(hf_dir), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling]).save(str(out_dir))
    return out_dir


def build_tiny_reranker(
    out_dir: Path, texts: Iterable[str], *, vocab_size: int = 2000, hidden_size: int = 32,
    seed: int = 0,
) -> Path:  # fmt: skip
    """Save a CrossEncoder (random BERT with a one-logit classification head) to `out_dir`."""
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder
    from transformers import BertForSequenceClassification

    fast = _tokenizer(texts, vocab_size)
    torch.manual_seed(seed)
    config = _bert_config(len(fast), hidden_size, max_positions=256, num_labels=1)
    hf_dir = out_dir.parent / f"{out_dir.name}-hf"
    BertForSequenceClassification(config).save_pretrained(hf_dir)
    fast.save_pretrained(hf_dir)
    CrossEncoder(str(hf_dir), max_length=256).save_pretrained(str(out_dir))
    return out_dir


def _tokenizer(texts: Iterable[str], vocab_size: int) -> Any:
    """A BERT WordPiece tokenizer whose vocabulary is the words of `texts`, most frequent first
    (ties in text order), after every character alone and as a ##suffix so no word is unknown.

    Built by hand rather than with tokenizers' WordPieceTrainer, whose vocabulary changes from one
    process to the next (ties between merges): the same texts must give the same tiny model.
    """
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words: Counter[str] = Counter()
    for text in texts:
        pieces = pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))
        words.update(word for word, _ in pieces)
    characters = sorted({character for word in words for character in word})
    vocabulary = list(dict.fromkeys([
        *SPECIAL_TOKENS, *characters, *(f"##{c}" for c in characters),
        *(word for word, _ in words.most_common()),
    ]))[:vocab_size]  # fmt: skip
    ids = {token: index for index, token in enumerate(vocabulary)}
    tokenizer = Tokenizer(models.WordPiece(ids, unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.WordPiece()
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=128,
    )
    return fast


def lab_texts(data_dir: Path) -> list[str]:
    """Every query and passage in the lab's splits (the vocabulary's training text)."""
    import json

    texts = []
    for split in sorted(data_dir.glob("*.jsonl")):
        for line in split.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                texts += [record.get("query", ""), *record.get("pos", []), *record.get("neg", [])]
    return texts


def _bert_config(vocab_size: int, hidden_size: int, max_positions: int, **extra: int):
    """Two layers, two heads: small enough that a whole run takes seconds."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=max_positions,
        **extra,
    )
