"""What contained isolation holds, as a worker says when it starts: read from its greeting,
written into results.json ("contained: landlock v7, seccomp, own uid": the same for every
worker of a batch) and into the grader's start-up line (with each worker's uid)."""
from grader import wire
from grader.sandbox.isolation import CONTAINED, FULL


def read_layers(body: bytes, error=ValueError) -> dict:
    """A contained worker's greeting: the layers that hold, read strictly (`error` raised
    when it is malformed)."""
    try:
        data = wire.decode(body, 4096)
    except wire.WireError:
        data = None
    if not isinstance(data, dict):
        raise error("a contained worker greeted without its layers")
    version, uid = data.get("landlock"), data.get("uid")
    return {"landlock": version if type(version) is int and version > 0 else 0,
            "seccomp": data.get("seccomp") is True,
            "uid": uid if type(uid) is int and uid > 0 else None,
            "read_search": data.get("read_search") is True}


def layers_text(layers: dict, uids: list | None = None) -> str:
    """The layers in words ("landlock v7, seccomp, own uid"); with `uids`, the uids."""
    parts = [f"landlock v{layers['landlock']}"] if layers["landlock"] else []
    parts += ["seccomp"] if layers["seccomp"] else []
    if layers["uid"] is not None:
        parts.append(f"uid {', '.join(str(u) for u in uids)}" if uids else "own uid")
        if uids and layers["read_search"]:
            parts[-1] += " (reading the runtime through CAP_DAC_READ_SEARCH, within Landlock)"
    return ", ".join(parts)


def isolation_notice(workers: list) -> str | None:
    """The start-up line for a batch's workers: which isolation holds and why not full (None
    in full mode)."""
    first = workers[0]
    if first.mode == FULL:
        return None
    if first.mode == CONTAINED and first.layers:
        uids = sorted({w.layers["uid"] for w in workers if w.layers and w.layers["uid"]})
        return (f"isolation: {CONTAINED}: {layers_text(first.layers, uids)} ({first.reason}); "
                "see docs/isolation.md.")
    return (f"warning: reduced isolation ({first.reason}): student code runs with process "
            "limits only; see docs/isolation.md.")
