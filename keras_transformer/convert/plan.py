"""What every converter shares: a plan of `(source tensor, variable, transform)` rows, applied with
the checks that make a conversion trustworthy.

Every variable of the model gets exactly one source tensor and every source tensor goes to exactly
one variable (or is on the converter's list of tensors left out on purpose): a missing tensor, a
tensor left over, a shape that does not fit or a value that is not finite fails with the tensor's name.
"""

import numpy as np


class ConversionError(ValueError):
    """A checkpoint does not fit the model (the message names the tensor)."""


def apply_plan(model, plan, tensors):
    """Assign every row of `plan` to `model` from `tensors` (`{name: np.ndarray}`).

    Args:
        model: the Keras model the plan's variables belong to.
        plan: `[(source name, variable, transform)]`; `transform(array)` gives the variable's value.
        tensors: the checkpoint's tensors (those left over are `check_nothing_left`'s business).

    Returns:
        The set of source names used.

    Raises:
        ConversionError: as the module says.
    """
    planned_variables = {id(variable) for _, variable, _ in plan}
    unplanned = [variable.path for variable in model.weights if id(variable) not in planned_variables]
    if len(plan) != len(planned_variables) or unplanned:
        raise ConversionError(f"The conversion plan does not cover each variable once. Unplanned: {unplanned}")
    sources = [source for source, _, _ in plan]
    if len(set(sources)) != len(sources):
        twice = sorted({source for source in sources if sources.count(source) > 1})
        raise ConversionError(f"The conversion plan uses tensors twice: {twice[:5]}")
    missing = [source for source in sources if source not in tensors]
    if missing:
        raise ConversionError(f"The checkpoint lacks {len(missing)} tensors the model needs, e.g. {missing[:5]}")
    for source, variable, transform in plan:
        value = np.asarray(transform(tensors[source]), dtype="float32")
        if tuple(value.shape) != tuple(variable.shape):
            raise ConversionError(
                f"Tensor {source!r} of shape {list(np.shape(tensors[source]))} does not fit {variable.path} "
                f"of shape {list(variable.shape)}."
            )
        if not np.all(np.isfinite(value)):
            raise ConversionError(f"Tensor {source!r} holds values that are not finite.")
        variable.assign(value)
    return set(sources)


def check_nothing_left(tensors, used, ignored=()):
    """`ConversionError` naming the tensors neither used nor deliberately ignored."""
    unused = sorted(set(tensors) - set(used) - set(ignored))
    if unused:
        raise ConversionError(f"{len(unused)} checkpoint tensors have no place in the model: {unused[:10]}")
