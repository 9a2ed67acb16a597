"""Landing CSVs straight into typed Arrow tables, at the speed of ``pyarrow.csv`` (pure).

The fast path parses with the contract's column types and checks the result with
Arrow compute. It declines (returns None) whenever the file needs the careful
reading in ``reading.py``: malformed rows, a value Arrow cannot parse as its type,
a non-finite number, an odd header. That path then names the row and column exactly
as before, so a bad file reads the same whichever path saw it first; good files,
the common case, never build Python objects per cell.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from schemas.contracts import ColumnType, DatasetContract

ARROW_TYPES = {
    ColumnType.STRING: pa.string(),
    ColumnType.CATEGORY: pa.string(),
    ColumnType.INT: pa.int64(),
    ColumnType.FLOAT: pa.float64(),
    ColumnType.BOOL: pa.string(),  # parsed below: the accepted spellings are case-blind
    ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
}
PANDAS_TYPES = {
    ColumnType.STRING: object,
    ColumnType.CATEGORY: object,
    ColumnType.INT: "Int64",
    ColumnType.FLOAT: "Float64",
    ColumnType.BOOL: "boolean",
    ColumnType.TIMESTAMP: "datetime64[us, UTC]",
}
_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
_SAMPLE = {
    ColumnType.STRING: "x",
    ColumnType.CATEGORY: "x",
    ColumnType.INT: 1,
    ColumnType.FLOAT: 1.0,
    ColumnType.BOOL: True,
    ColumnType.TIMESTAMP: pd.Timestamp(0, tz="UTC"),
}


def read_csv_fast(data: bytes, contract: DatasetContract) -> tuple[pa.Table, list[str]] | None:
    """Parse a UTF-8 CSV with the contract's types.

    Returns:
        The declared columns that are present, typed, in contract order, and the sorted
        names of extra columns; or None when the careful reader must decide.
    """
    types = {name: ARROW_TYPES[col.type] for name, col in contract.columns.items()}
    convert = pacsv.ConvertOptions(
        column_types=types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        table = pacsv.read_csv(pa.BufferReader(data), convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    names = table.column_names
    if len(set(names)) != len(names) or any(n != n.strip() or not n for n in names):
        return None
    extra = sorted(n for n in names if n not in contract.columns)
    table = table.select([n for n in contract.columns if n in names])
    columns = []
    for name in table.column_names:
        column = _finish(table.column(name), contract.columns[name].type)
        if column is None:
            return None
        columns.append(column)
    return pa.table(columns, names=table.column_names), extra


def _finish(values: pa.ChunkedArray, kind: ColumnType) -> pa.ChunkedArray | None:
    """Trim strings, parse booleans, refuse non-finite floats (None: read carefully)."""
    if kind == ColumnType.FLOAT:
        finite = pc.is_finite(values)
        return values if pc.all(finite, skip_nulls=True).as_py() is not False else None
    if kind in (ColumnType.STRING, ColumnType.CATEGORY, ColumnType.BOOL):
        trimmed = pc.utf8_trim_whitespace(values)
        # else the parsed column stays (no second copy of its strings), and has no blank:
        # empty fields, quoted or not, were read as nulls
        if not pc.all(pc.equal(pc.binary_length(trimmed), pc.binary_length(values))).as_py():
            values = trimmed
            blank = pc.equal(values, "")
            if pc.any(blank).as_py():
                values = pc.if_else(blank, pa.scalar(None, pa.string()), values)
        if kind == ColumnType.BOOL:
            return _parse_bools(values)
    return values


def _parse_bools(values: pa.ChunkedArray) -> pa.ChunkedArray | None:
    lowered = pc.utf8_lower(values)
    keys = pa.array(list(_BOOLS))
    where = pc.index_in(lowered, value_set=keys)
    if pc.sum(pc.and_(pc.is_valid(lowered), pc.is_null(where))).as_py():
        return None
    return pc.take(pa.array(list(_BOOLS.values())), where)


def with_pandas_metadata(table: pa.Table, contract: DatasetContract) -> pa.Table:
    """The table with the pandas metadata a frame of the contract's dtypes would carry.

    Curated partitions then read back as the same nullable pandas dtypes (Int64,
    Float64, boolean) whichever reader produced them, and are byte-identical.
    """
    cols = contract.columns
    template = pd.DataFrame(
        {
            n: pd.Series([_SAMPLE[cols[n].type]], dtype=PANDAS_TYPES[cols[n].type])
            for n in table.column_names
        }
    )
    schema = pa.Schema.from_pandas(template, preserve_index=False)
    return table.cast(pa.schema(list(table.schema), metadata=schema.metadata))


def to_frame(table: pa.Table) -> pd.DataFrame:
    """A pandas view of a coerced table in the contract's nullable dtypes."""
    mapping = {
        pa.int64(): pd.Int64Dtype(),
        pa.float64(): pd.Float64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    return table.to_pandas(types_mapper=mapping.get, ignore_metadata=True)


def to_gx_frame(table: pa.Table) -> pd.DataFrame:
    """The frame Great Expectations checks: numpy dtypes wherever no value is missing.

    GX's pandas engine compares numpy columns vectorised but nullable (Int64) ones a
    value at a time, so an int column with no missing value goes in as ``int64`` and
    floats as ``float64`` (NaN marks a missing value, which coercion guarantees is
    the only way one arises). The values, and so the reported examples, are the same.
    """
    mapping = {pa.bool_(): pd.BooleanDtype()}
    frame = table.to_pandas(types_mapper=mapping.get, ignore_metadata=True)
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_integer(column.type) and column.null_count:
            frame[name] = frame[name].astype("Int64")
    return frame
