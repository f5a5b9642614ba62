"""Line parsing: CSV quoting, field counts, JSON numbers kept as text."""

from ecomdwh.contract import ENTITIES
from glue_local.etl import parsing


def test_csv_quoting_edge_cases_keep_commas_and_quotes():
    header = ["a", "b", "c"]
    assert parsing.parse_csv_line('1,"Porto, ""Norte""",x', header) == {"a": "1", "b": 'Porto, "Norte"', "c": "x"}
    assert parsing.parse_csv_line("1,,", header) == {"a": "1", "b": "", "c": ""}


def test_csv_wrong_field_count_or_broken_quotes_is_unparseable():
    header = ["a", "b", "c"]
    assert parsing.parse_csv_line("1,2", header) is None
    assert parsing.parse_csv_line("1,2,3,4", header) is None
    assert parsing.parse_csv_line('1,"2,3', header) is None


def test_header_strips_bom_and_spaces():
    assert parsing.parse_header("\ufeffcustomer_id, email") == ["customer_id", "email"]


def test_json_numbers_stay_source_text():
    record = parsing.parse_json_line('{"q": 2, "p": 12.345, "d": null, "b": true, "s": "1.50"}')
    assert record == {"q": "2", "p": "12.345", "d": None, "b": "true", "s": "1.50"}


def test_json_that_is_not_an_object_is_unparseable():
    assert parsing.parse_json_line('{"order_id": "O1", "cust') is None
    assert parsing.parse_json_line("[1, 2]") is None
    assert parsing.parse_json_line("42") is None


def test_parse_records_reports_extra_columns_and_parse_errors():
    entity = ENTITIES["payments"]
    lines = ['{"payment_id": "P1", "amount": "5.00", "tip": 1, "zz": 2}', "not json"]
    out = parsing.parse_records(entity, lines, ["f", "f"], {})
    assert out["payment_id"] == ["P1", None]
    assert out["amount"] == ["5.00", None]
    assert out[parsing.EXTRA] == ["tip,zz", None]
    assert out[parsing.PARSE_ERROR] == [False, True]
