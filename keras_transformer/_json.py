"""`json_line`: one value as one JSON line, the way the command line and the Beam job write them."""

import json


def json_line(value):
    """`value` as one JSON line, UTF-8 as it is; with \\u escapes where the text holds lone surrogates
    (bytes of standard input that were not UTF-8), which UTF-8 cannot carry.

    Example:
    >>> json_line({"text": "café"}), json_line({"text": "\\udcff"})
    ('{"text": "café"}', '{"text": "\\\\udcff"}')
    """
    line = json.dumps(value, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)
    return line
