from inventory.datasets import Record
from inventory.rows import pair_columns, training_columns, triplet_columns

RECORDS = [
    Record("q1", ("p1", "p2", "p3"), ("n1", "n2")),
    Record("q2", ("p4",), ("n3",)),
]


def test_each_positive_is_a_row_and_takes_the_negatives_from_its_own_position() -> None:
    columns = triplet_columns(RECORDS, negatives=2)
    assert columns == {
        "anchor": ["q1", "q1", "q1", "q2"],
        "positive": ["p1", "p2", "p3", "p4"],
        "negative_1": ["n1", "n2", "n1", "n3"],
        "negative_2": ["n2", "n1", "n2", "n3"],  # fewer negatives than columns: repeated in turn
    }
    without = triplet_columns(RECORDS)
    assert without == {"anchor": columns["anchor"], "positive": columns["positive"]}


def test_training_rows_have_a_negative_column_only_when_every_record_has_one() -> None:
    assert list(training_columns(RECORDS)) == ["anchor", "positive", "negative"]
    assert training_columns(RECORDS)["negative"] == ["n1", "n2", "n1", "n3"]
    assert list(training_columns([*RECORDS, Record("q3", ("p5",))])) == ["anchor", "positive"]
    assert training_columns([]) == {"anchor": [], "positive": []}


def test_pairs_label_each_positive_one_and_each_negative_zero() -> None:
    assert pair_columns(RECORDS[1:]) == {
        "query": ["q2", "q2"], "passage": ["p4", "n3"], "label": [1.0, 0.0]
    }  # fmt: skip
    named = pair_columns([Record("q", ("p",))], names=("text1", "text2", "label"))
    assert named == {"text1": ["q"], "text2": ["p"], "label": [1.0]}
