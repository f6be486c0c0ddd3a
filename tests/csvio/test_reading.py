"""The shared CSV reader: encodings, separators, headers and clear messages."""

import pytest

from kernel.csvio import CsvFileError, parse_decimal, parse_whole, read_csv

COLUMNS = ("sku", "warehouse", "on_hand", "price")


def errors_of(data, **kw):
    with pytest.raises(CsvFileError) as info:
        read_csv(data, columns=COLUMNS, required=kw.pop("required", ("sku",)), **kw)
    return info.value.errors


def test_bom_semicolons_and_header_case_are_accepted():
    data = "\ufeffSKU ; Warehouse;ON_HAND;extra\nA;WH1;3;x\n\nB;WH2;4;y\n".encode()
    table = read_csv(data, columns=COLUMNS, required=("sku", "warehouse"))
    assert table.delimiter == ";"
    assert table.columns == ["sku", "warehouse", "on_hand"]
    assert table.rows == [["A", "WH1", "3"], ["B", "WH2", "4"]]
    assert table.row_numbers == [2, 4]  # the blank line keeps the numbering of the file


def test_missing_required_column_is_named():
    (error,) = errors_of(b"sku,on_hand\nA,1\n", required=("sku", "warehouse"))
    assert (error.row, error.column) == (1, "warehouse")
    assert "Missing required column 'warehouse'" in error.message


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"sku,on_hand\n", "no data rows"),
        (b"PK\x03\x04\x14\x00\x06\x00binary", "Excel workbook"),
        (b"sku,on\x00hand\x00\n", "binary data"),
        ("sku\nCafé\n".encode("utf-16"), "UTF-16"),
        ("sku\nCafé\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_empty_binary_and_wrongly_encoded_files_are_refused(data, words):
    errors = errors_of(data)
    assert len(errors) == 1
    assert words in errors[0].message


def test_latin1_error_names_the_line():
    (error,) = errors_of("sku\nA\nCafé\n".encode("latin-1"))
    assert error.row == 3
    assert "0xe9" in error.message


def test_unquoted_comma_decimal_in_a_comma_file_is_explained():
    (error,) = errors_of(b"sku,warehouse,price\nA,WH1,19,90\n", decimals=("price",))
    assert (error.row, error.column, error.value) == (2, "price", "19,90")
    assert "comma as the decimal separator" in error.message


def test_comma_decimal_value_has_a_clear_message():
    with pytest.raises(ValueError, match=r"comma as the decimal separator.*\(19\.90\)"):
        parse_decimal("19,90")


@pytest.mark.parametrize(
    "value, message",
    [("1.5", "whole number"), ("-2", "negative"), ("abc", "whole number"), ("", "required")],
)
def test_whole_numbers(value, message):
    with pytest.raises(ValueError, match=message):
        parse_whole(value)


def test_whole_number_written_as_decimal_is_accepted():
    assert parse_whole("3.0") == 3
    assert parse_whole("+7") == 7


def test_gc_paused_restores_the_collector():
    import gc

    from kernel.csvio import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
