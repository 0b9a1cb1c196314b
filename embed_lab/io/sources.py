"""Where a file-based format's splits are: one file (split by query later) or a folder."""

from __future__ import annotations

from pathlib import Path

from embed_lab.io.records import ImportFailure


def split_files(
    source: Path, names: dict[str, str | None], extensions: tuple[str, ...]
) -> dict[str, Path]:
    """{"all": source} for a file; for a folder, the file of each split named `names[split]`
    with one of `extensions` ("dev": None means carve it from train when there is none)."""
    if source.is_file():
        return {"all": source}
    if not source.is_dir():
        raise ImportFailure(source, "no such file or directory")
    files: dict[str, Path] = {}
    for split, name in {**names, "dev": names.get("dev") or "dev"}.items():
        candidates = [source / f"{name}{extension}" for extension in extensions]
        found = [path for path in candidates if path.is_file()]
        if found:
            files[split] = found[0]
        elif split != "dev" or names.get("dev") is not None:
            option = f"--{split}"
            raise ImportFailure(
                source,
                f"no {name}{'/'.join(extensions)} for the {split} split (name it with {option})",
            )
    return files
