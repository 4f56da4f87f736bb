"""Character classes as runs of consecutive code points: how the text tables shipped with the package
(`bert_characters.json`, `tf_lowercase.json`, written by the scripts in `benchmarks/`) store them."""


def code_point_runs(code_points):
    """Sorted code points -> `[[first, last], ...]`, the runs of consecutive ones.

    >>> code_point_runs([65, 66, 67, 70, 72, 73])
    [[65, 67], [70, 70], [72, 73]]
    """
    runs = []
    for code_point in code_points:
        if runs and runs[-1][1] == code_point - 1:
            runs[-1][1] = code_point
        else:
            runs.append([code_point, code_point])
    return runs
