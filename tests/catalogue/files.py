"""Small input files for the bad-input catalogue, made on demand in a test's workspace."""

from __future__ import annotations

import json
from pathlib import Path

TEXTS = ["The cat sat on the mat.", "Stocks fell sharply today.", "A dog barked at night.",
         "Oil prices rose again.", "The team won the final.", "Rain is expected tomorrow.",
         "A new phone was launched.", "The election result is close.", "Bread prices went up.",
         "The match ended in a draw.", "Scientists found a new planet.", "The bank raised rates."]
LABELS = ["a", "b"] * 6


def _csv(path: Path, header: list[str], rows: list[list]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def make(ws: Path, name: str) -> Path:
    """Create the named file (or folder) in ``ws`` and return its path."""
    path = ws / name
    if path.exists():
        return path
    maker = MAKERS[name]
    maker(path)
    return path


def _docs(path):
    _csv(path, ["id", "text", "label"], [[i, t, lab] for i, (t, lab) in enumerate(zip(TEXTS, LABELS))])


def _pairs(path):
    _csv(path, ["sentence1", "sentence2", "score"], [[a, b, s] for a, b, s in zip(TEXTS, TEXTS[1:], [0, 1, 2, 3, 4, 5, 1, 2])])


def _pairs_inf(path):
    _csv(path, ["sentence1", "sentence2", "score"], [[a, b, s] for a, b, s in zip(TEXTS, TEXTS[1:], [0, 1, "inf", 3, 4])])


def _pairs_nan(path):
    _csv(path, ["sentence1", "sentence2", "score"], [[a, b, s] for a, b, s in zip(TEXTS, TEXTS[1:], [0, 1, "", 3, 4])])


def _pairs_words(path):
    _csv(path, ["sentence1", "sentence2", "score"], [[a, b, s] for a, b, s in zip(TEXTS, TEXTS[1:], ["high", "low", "mid"])])


def _pairs_two(path):
    _csv(path, ["sentence1", "sentence2", "score"], [[TEXTS[0], TEXTS[1], 1], [TEXTS[2], TEXTS[3], 2]])


def _pairs_flat(path):
    _csv(path, ["sentence1", "sentence2", "score"], [[a, b, 3] for a, b in zip(TEXTS, TEXTS[1:6])])


def _pairs_empty_text(path):
    _csv(path, ["sentence1", "sentence2", "score"], [[TEXTS[0], "", 1], [TEXTS[1], TEXTS[2], 2], [TEXTS[3], TEXTS[4], 3]])


def _pair_labels(path):
    _csv(path, ["sentence1", "sentence2", "label"], [[a, b, i % 2] for i, (a, b) in enumerate(zip(TEXTS, TEXTS[1:]))])


def _pair_labels_two(path):
    _csv(path, ["sentence1", "sentence2", "label"], [[a, b, 2 * (i % 2)] for i, (a, b) in enumerate(zip(TEXTS, TEXTS[1:]))])


def _pair_labels_ones(path):
    _csv(path, ["sentence1", "sentence2", "label"], [[a, b, 1] for a, b in zip(TEXTS, TEXTS[1:])])


def _one_label(path):
    _csv(path, ["text", "label"], [[t, "same"] for t in TEXTS])


def _rare_label(path):
    _csv(path, ["text", "label"], [[t, "a" if i else "b"] for i, t in enumerate(TEXTS)])


def _numbers(path):
    _csv(path, ["id", "price", "qty"], [[i, i * 1.5, i * 2] for i in range(10)])


def _dup_header(path):
    path.write_text("text,text,label\nfirst,second,a\nthird,fourth,b\n", encoding="utf-8")


def _embedding_col(path):
    _csv(path, ["text", "embedding"], [[t, "x"] for t in TEXTS[:4]])


def _latin1(path):
    path.write_bytes("text\nCaf\xe9 au lait\nNa\xefve art\n".encode("latin-1"))


def _utf16(path):
    path.write_bytes("text\nfirst document\nsecond document\n".encode("utf-16"))


def _semicolon(path):
    path.write_text("id;text\n1;first document here\n2;second document here\n3;third document\n", encoding="utf-8")


def _mixed_types(path):
    path.write_text(json.dumps({"text": "one", "extra": 1}) + "\n" + json.dumps({"text": "two", "extra": "b"}) + "\n"
                    + json.dumps({"text": "three", "extra": [1, 2]}) + "\n", encoding="utf-8")


def _bad_quotes(path):
    path.write_text('text,label\n"unclosed quote,a\nfine,b\n', encoding="utf-8")


def _bad_jsonl(path):
    path.write_text('{"text": "ok"}\n{"text": "broken\n{"text": "fine"}\n', encoding="utf-8")


def _bad_parquet(path):
    path.write_bytes(b"PAR1" + b"\x00" * 64 + b"garbage")


def _empty(path):
    path.write_bytes(b"")


def _header_only(path):
    path.write_text("text,label\n", encoding="utf-8")


def _blank_lines(path):
    path.write_text("\n   \n\n", encoding="utf-8")


def _folder(path):
    path.mkdir()


def _triplets_one(path):
    _csv(path, ["anchor", "positive", "negative"], [[TEXTS[0], TEXTS[1], TEXTS[2]]])


def _triplets(path):
    _csv(path, ["anchor", "positive", "negative"], [[a, b, c] for a, b, c in zip(TEXTS, TEXTS[1:], TEXTS[2:])])


def _anchors_only(path):
    _csv(path, ["anchor", "other"], [[a, b] for a, b in zip(TEXTS, TEXTS[1:])])


def _beir_no_qrels(path):
    path.mkdir()
    (path / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": str(i), "title": "", "text": t})
                                                 for i, t in enumerate(TEXTS)) + "\n", encoding="utf-8")
    (path / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "cat"}) + "\n", encoding="utf-8")


def _corpus(path):
    path.write_text("\n".join(json.dumps({"_id": str(i), "text": t}) for i, t in enumerate(TEXTS)) + "\n",
                    encoding="utf-8")


def _queries(path):
    path.write_text(json.dumps({"_id": "q1", "text": "cat on a mat"}) + "\n", encoding="utf-8")


def _qrels(path):
    path.write_text("query-id\tcorpus-id\tscore\nq1\t0\t1\n", encoding="utf-8")


def _qrels_unknown(path):
    path.write_text("query-id\tcorpus-id\tscore\nqX\t99\t1\n", encoding="utf-8")


def _st_list_modules(path):
    path.mkdir()
    (path / "modules.json").write_text("[1, 2, 3]", encoding="utf-8")
    (path / "config.json").write_text("{}", encoding="utf-8")


def _st_list_modules_strings(path):
    path.mkdir()
    (path / "modules.json").write_text('["a", "b"]', encoding="utf-8")


def _model_json_list(path):
    path.mkdir()
    (path / "embedlab_model.json").write_text("[]", encoding="utf-8")


def _model_json_broken(path):
    path.mkdir()
    (path / "embedlab_model.json").write_text("{not json", encoding="utf-8")


def _empty_model_folder(path):
    path.mkdir()


MAKERS = {
    "docs.csv": _docs, "pairs.csv": _pairs, "pairs_inf.csv": _pairs_inf, "pairs_nan.csv": _pairs_nan,
    "pairs_words.csv": _pairs_words, "pairs_two.csv": _pairs_two, "pairs_flat.csv": _pairs_flat,
    "pairs_empty_text.csv": _pairs_empty_text, "pair_labels.csv": _pair_labels,
    "pair_labels_two.csv": _pair_labels_two, "pair_labels_ones.csv": _pair_labels_ones,
    "one_label.csv": _one_label, "rare_label.csv": _rare_label, "numbers.csv": _numbers,
    "dup_header.csv": _dup_header, "embedding_col.csv": _embedding_col, "latin1.csv": _latin1,
    "utf16.csv": _utf16, "semicolon.csv": _semicolon, "mixed.jsonl": _mixed_types,
    "bad_quotes.csv": _bad_quotes, "bad.jsonl": _bad_jsonl, "bad.parquet": _bad_parquet, "empty.csv": _empty,
    "header_only.csv": _header_only, "blank.txt": _blank_lines, "folder": _folder, "triplets_one.csv": _triplets_one,
    "triplets.csv": _triplets, "anchors_only.csv": _anchors_only, "beir_no_qrels": _beir_no_qrels,
    "corpus.jsonl": _corpus, "queries.jsonl": _queries, "qrels.tsv": _qrels, "qrels_unknown.tsv": _qrels_unknown,
    "st_list_modules": _st_list_modules, "st_list_modules_strings": _st_list_modules_strings,
    "model_json_list": _model_json_list, "model_json_broken": _model_json_broken,
    "empty_model_folder": _empty_model_folder,
}
