"""Run every check on a lab's data directory and decide whether it passes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from embed_lab.check.corpus import CorpusScan, corpus_findings, scan_corpus
from embed_lab.check.describe import describe_examples, excerpt
from embed_lab.check.errors import CheckError
from embed_lab.check.findings import (
    Example,
    Finding,
    Location,
    cross_split_findings,
    split_findings,
)
from embed_lab.check.kinds import fails
from embed_lab.check.progress import byte_progress, wants_progress
from embed_lab.check.reader import contract
from embed_lab.check.scan import ScanSettings, SplitScan, scan_split

if TYPE_CHECKING:
    from embed_lab.check.neardup import ProgressFor

SPLITS: tuple[str, ...] = contract.SPLITS
CORPUS_FILE: str = contract.CORPUS_FILE


@dataclass(frozen=True)
class CheckOptions:
    strict: bool = False
    allow: frozenset[str] = frozenset()
    near_dup: bool = False
    threshold: float = 0.8
    tokenizer: Path | None = None
    min_chars: int = 3
    max_examples: int = 3
    progress: bool | None = None  # None: when stderr is a terminal or the input is large


@dataclass
class CheckResult:
    data_dir: Path
    options: CheckOptions
    scans: list[SplitScan]
    corpus: CorpusScan
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(finding.fails for finding in self.findings)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def run_check(data_dir: Path, options: CheckOptions = CheckOptions()) -> CheckResult:
    """Check DATA_DIR/{train,dev,gold}.jsonl and, when present, DATA_DIR/corpus.jsonl.

    Raises CheckError when the check cannot run.
    """
    if not data_dir.is_dir():
        raise CheckError(f"{data_dir}: no such directory")
    if options.tokenizer is not None:
        from embed_lab.check.tokens import load_tokenizer

        load_tokenizer(options.tokenizer)  # fail early (exit 2) on a bad tokenizer
    settings = ScanSettings(options.min_chars, options.max_examples, options.tokenizer)
    paths = {split: data_dir / f"{split}.jsonl" for split in SPLITS}
    corpus_path = data_dir / CORPUS_FILE
    sizes = {
        name: path.stat().st_size
        for name, path in [*paths.items(), ("corpus", corpus_path)]
        if path.is_file()
    }
    show_progress = (
        wants_progress(sum(sizes.values())) if options.progress is None else options.progress
    )
    scans: list[SplitScan] = []
    with byte_progress("checking", sum(sizes.values()), show_progress) as for_file:
        for split, path in paths.items():
            with _readable(path):
                scans.append(scan_split(split, path, settings, for_file(path.name)))
        with _readable(corpus_path):
            corpus = scan_corpus(corpus_path, options.max_examples, for_file(corpus_path.name))
    findings = [finding for scan in scans for finding in split_findings(scan)]
    findings += cross_split_findings(scans)
    findings += corpus_findings(corpus)
    if options.near_dup:
        present = [(scan.name, scan.path) for scan in scans if scan.present]
        with byte_progress("near-duplicates", sum(sizes.values()), show_progress) as for_file:
            findings += near_duplicate_findings(present, options, for_file)
    describe_examples(findings, data_dir)
    for finding in findings:
        finding.fails = fails(finding.kind, strict=options.strict, allowed=options.allow)
    return CheckResult(data_dir, options, scans, corpus, findings)


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """An unreadable file stops the check (exit 2) with one line."""
    try:
        yield
    except OSError as error:
        raise CheckError(f"{path}: {error.strerror or error}") from None


def near_duplicate_findings(
    splits: list[tuple[str, Path]], options: CheckOptions, progress_for: ProgressFor
) -> list[Finding]:
    from embed_lab.check.neardup import NearDuplicate, find_near_duplicates

    order = {split: index for index, split in enumerate(SPLITS)}
    grouped: dict[tuple[str, str], list[NearDuplicate]] = defaultdict(list)
    for pair in find_near_duplicates(splits, options.threshold, progress_for):
        grouped[(pair.first.split, pair.second.split)].append(pair)
    findings: list[Finding] = []
    for (first, second), pairs in sorted(
        grouped.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])
    ):
        pairs.sort(key=lambda pair: (pair.second.line, pair.first.line))
        where = f"within {first}" if first == second else f"between {first} and {second}"
        examples = [
            Example(
                [
                    Location(pair.second.file, pair.second.line),
                    Location(pair.first.file, pair.first.line),
                ],
                f"{excerpt(pair.second.text, 40)} ~ {excerpt(pair.first.text, 40)} "
                f"(Jaccard {pair.similarity:.2f})",
            )
            for pair in pairs[: options.max_examples]
        ]
        findings.append(
            Finding(
                "near-duplicate",
                (first, second) if first != second else (first,),
                len(pairs),
                f"{len(pairs)} near-duplicate query pair(s) {where} "
                f"(Jaccard >= {options.threshold})",
                examples,
            )
        )
    return findings
