"""A test's messages as sentences, in the current language: outputs wrong in the same way share
one sentence ("your wx_grad and wRec_grad are exactly 7× …", "여러분의 wx_grad, wRec_grad 값이
정확히 …"), and lists read as the language lists ("a, b and c"; "a, b, c").

A message about one output names it as the language's "your {label} " says; in English the verbs
then agree with several outputs, Korean needs no change but the names.
"""
from grader.i18n import _, translated


def join(items: list) -> str:
    """"a, b and c" in the current language."""
    if len(items) == 1:
        return items[0]
    return _("{items} and {last}", items=", ".join(items[:-1]), last=items[-1])


def merge(messages: list, labels: list) -> list:
    """The messages, those that differ only in the output they name as one sentence naming all
    of them, each capitalized; `labels`: the outputs' labels (in words, as the messages write
    them, in the current language)."""
    if not messages:
        return []
    labels = [translated(label) for label in labels]
    own = _("your {label} ", label="§")
    groups = {}
    for message in dict.fromkeys(messages):
        label = next((l for l in labels if own.replace("§", l) in message), None)
        key = message.replace(own.replace("§", label), own, 1) if label else message
        groups.setdefault(key, []).append(label)
    merged = []
    for key, group in groups.items():
        if len(group) > 1 and None not in group:
            text = _plural(key, join(group)) if own == "your § " \
                else key.replace(own, own.replace("§", join(group)), 1)
        else:
            text = key.replace(own, own.replace("§", group[0]), 1) if group[0] else key
        merged.append(text[:1].upper() + text[1:])
    return merged


def _plural(key: str, names: str) -> str:
    """An English sentence about several outputs: the verbs agree with them."""
    return key.replace("your § is ", f"your {names} are ", 1) \
              .replace("your § has ", f"your {names} have ", 1) \
              .replace("your § disagrees ", f"your {names} disagree ", 1) \
              .replace("your § ", f"your {names} ", 1) \
              .replace("; it should", "; they should").replace(": it is exactly",
                                                               ": they are exactly")
