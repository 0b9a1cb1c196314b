"""Precision, encode batch size and the Trainer's arguments chosen per device."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_TEXTS

from inventory import device
from inventory.config import TrainConfig, parse_args
from inventory.datasets import Record
from inventory.device import Encoding
from inventory.embeddings import EmbeddingCache, model_key
from inventory.errors import LabError
from inventory.evaluate import GoldEvaluation
from inventory.trainer_args import training_arguments


def on_cpu(monkeypatch: pytest.MonkeyPatch, bf16: bool) -> None:
    monkeypatch.setattr(device, "device_kind", lambda: "cpu")
    monkeypatch.setattr(device, "cpu_has_bf16", lambda: bf16)


@pytest.mark.parametrize("choice", ["fp16", "tf32"])
def test_a_precision_this_cpu_cannot_run_is_one_line(monkeypatch, choice: str) -> None:
    on_cpu(monkeypatch, bf16=True)
    with pytest.raises(LabError, match=f"^--precision {choice}: .*needs an NVIDIA GPU") as error:
        device.settings(TrainConfig(precision=choice))
    assert "\n" not in str(error.value)
    with pytest.raises(LabError, match=f"^--eval-precision {choice}: "):
        device.settings(TrainConfig(eval_precision=choice))


def test_auto_encodes_in_bf16_only_on_a_cpu_with_bf16_instructions(monkeypatch) -> None:
    on_cpu(monkeypatch, bf16=False)
    plain = device.settings(TrainConfig())
    assert (plain.train_precision, plain.encoding) == ("fp32", Encoding("fp32", 64))
    assert plain.dataloader_workers == 0
    on_cpu(monkeypatch, bf16=True)
    assert device.settings(TrainConfig()).record()["precision"] == {"train": "fp32", "eval": "bf16"}
    chosen = device.settings(TrainConfig(precision="bf16", eval_precision="fp32",
                                         encode_batch_size=8))  # fmt: skip
    assert (chosen.train_precision, chosen.encoding) == ("bf16", Encoding("fp32", 8))


def test_cpu_bf16_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("model name\t: x\nflags\t\t: fpu avx512f avx512_vnni\n")
    assert not device.cpu_has_bf16(cpuinfo)
    cpuinfo.write_text("model name\t: x\nflags\t\t: fpu avx512f avx512_bf16\n")
    assert device.cpu_has_bf16(cpuinfo)
    assert not device.cpu_has_bf16(tmp_path / "missing")


def test_the_flags_reach_the_config() -> None:
    argv = ["--precision", "bf16", "--eval-precision", "fp32", "--encode-batch-size", "64",
            "--gradient-accumulation-steps", "4", "--dataloader-workers", "2"]  # fmt: skip
    train = parse_args("exp_x.py", TrainConfig(), argv).train
    assert (train.precision, train.eval_precision, train.encode_batch_size) == ("bf16", "fp32", 64)
    assert (train.gradient_accumulation_steps, train.dataloader_workers) == (4, 2)
    with pytest.raises(SystemExit):
        parse_args("exp_x.py", TrainConfig(), ["--precision", "fp64"])


def test_one_builder_sets_the_trainer_arguments_the_flags_say(monkeypatch, tmp_path) -> None:
    from sentence_transformers.cross_encoder import CrossEncoderTrainingArguments
    from sentence_transformers.sentence_transformer import SentenceTransformerTrainingArguments

    on_cpu(monkeypatch, bf16=False)
    config = TrainConfig(precision="bf16", gradient_accumulation_steps=4, dataloader_workers=2,
                         seed=7, batch_size=8, report_to="none")  # fmt: skip
    for kind in (SentenceTransformerTrainingArguments, CrossEncoderTrainingArguments):
        args = training_arguments(kind, config, tmp_path, logging_steps=0.5)
        assert (args.bf16, args.fp16, args.tf32) == (True, False, None)
        assert (args.gradient_accumulation_steps, args.dataloader_num_workers) == (4, 2)
        assert args.dataloader_persistent_workers and args.seed == 7
        assert (args.per_device_train_batch_size, args.logging_steps) == (8, 0.5)
        assert args.output_dir == str(tmp_path) and args.use_cpu
    plain = training_arguments(CrossEncoderTrainingArguments, replace(config, precision="auto",
                               dataloader_workers=None), tmp_path)  # fmt: skip
    assert (plain.bf16, plain.fp16, plain.dataloader_num_workers) == (False, False, 0)


def test_bf16_encoding_stays_close_to_fp32_and_leaves_the_weights(bert_model, tmp_path) -> None:
    """Metrics of bf16 vectors are close to fp32's; the weights stay fp32; the vectors float32."""
    import torch

    gold = [Record(query=SAMPLE_TEXTS[i], pos=(SAMPLE_TEXTS[i + 1],)) for i in range(0, 12, 2)]
    scores, vectors = {}, {}
    for precision in ("fp32", "bf16"):
        cache = EmbeddingCache(bert_model, tmp_path, Encoding(precision, 4))
        evaluation = GoldEvaluation(gold, [], tmp_path / precision)
        scores[precision] = evaluation.score_model(bert_model, "before", cache)
        vectors[precision] = cache.encode(SAMPLE_TEXTS, "document", "corpus")
    assert vectors["bf16"].dtype == np.float32
    assert not np.array_equal(vectors["bf16"], vectors["fp32"])  # bf16 was used
    cosine = (vectors["bf16"] * vectors["fp32"]).sum(1) / (
        np.linalg.norm(vectors["bf16"], axis=1) * np.linalg.norm(vectors["fp32"], axis=1)
    )
    assert cosine.min() > 0.99
    assert scores["bf16"]["ndcg@10"] == pytest.approx(scores["fp32"]["ndcg@10"], abs=0.05)
    assert {parameter.dtype for parameter in bert_model.parameters()} == {torch.float32}


def test_the_cache_key_holds_the_precision(bert_model, tmp_path) -> None:
    """bf16 vectors on disk never serve an fp32 run; fp32's key is as before precision."""
    assert model_key(bert_model, "bf16") != model_key(bert_model) == model_key(bert_model, "fp32")
    EmbeddingCache(bert_model, tmp_path, Encoding("bf16")).encode(SAMPLE_TEXTS, "query", "q")
    fp32 = EmbeddingCache(bert_model, tmp_path, Encoding("fp32"))
    fp32.encode(SAMPLE_TEXTS, "query", "q")
    assert fp32.encoded == len(SAMPLE_TEXTS)  # nothing of the bf16 folder served it
    assert fp32.paths and all(path.parent == fp32.folder for path in fp32.paths)
