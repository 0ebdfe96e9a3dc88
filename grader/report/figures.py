"""Pictures for feedback pages, as inline PNG data URIs: where a student's returned array differs
from the reference (one heatmap or bar chart per Evidence, with time steps and gate blocks named
on the axes), and the class charts of the instructor's summary.

matplotlib's object API with the Agg canvas only: no pyplot state, no display, safe to call
from any thread.

The words drawn into a picture are in the current language when a font that draws them is
installed (for Korean: Nanum, Noto CJK, ...; matplotlib falls back to it glyph by glyph), in
English otherwise: a picture never shows empty boxes. Captions and the legend are HTML, always
in the current language.
"""
import base64
import functools
import glob
import io
import re
import time

import numpy as np

from grader import i18n
from grader.i18n import N_

#: diagnosis codes of a constant factor or swapped outputs: the picture would only show the
#: reference's own pattern, the sentence says it all.
FACTOR_CODES = ("sign", "global", "swap", "transpose", "shape", "type")

DIVERGING = "RdBu_r"
INK = "#1f2933"
MUTED = "#616e7c"
GREEN, AMBER, RED, GREY, BLUE = "#2f9e44", "#e8a317", "#d64545", "#9aa5b1", "#3b6fb6"

DPI = 100


#: font families that draw Hangul, and where their files usually are (a font installed after
#: matplotlib built its font cache is only found by its file)
HANGUL_FAMILIES = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "Noto Sans CJK JP",
                   "Apple SD Gothic Neo", "Malgun Gothic", "UnDotum")
HANGUL_FILES = ("/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
                "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                "/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf")
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def load() -> float:
    """Import matplotlib (about a second, once per process; pages without figures never do);
    returns the seconds it took."""
    began = time.perf_counter()
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401

    if i18n.language() != i18n.DEFAULT:
        hangul_family()
    return time.perf_counter() - began


@functools.lru_cache(maxsize=1)
def hangul_family() -> str | None:
    """The family of an installed font that draws Hangul, made matplotlib's fallback after its
    own font; None when there is none."""
    import matplotlib
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    found = next((family for family in HANGUL_FAMILIES if family in known), None)
    if found is None:
        for path in HANGUL_FILES + tuple(glob.glob("/usr/share/fonts/**/Nanum*.ttf",
                                                   recursive=True))[:1]:
            try:
                font_manager.fontManager.addfont(path)
                found = font_manager.FontProperties(fname=path).get_name()
                break
            except (OSError, RuntimeError, ValueError):
                continue
    if found:  # (a family list: matplotlib falls back glyph by glyph, an alias list it does not)
        matplotlib.rcParams["font.family"] = ["DejaVu Sans", found]
    return found


def _words(template: str, **values) -> str:
    """Words to draw into a picture: in the current language when a font draws them."""
    text = i18n._(template, **values)
    if _HANGUL.search(text) and hangul_family() is None:
        return template.format(**values) if values else template
    return text


def drawable(text: str, fallback: str) -> str:
    """`text` where a font draws it, else `fallback` (for labels made elsewhere)."""
    return fallback if _HANGUL.search(text) and hangul_family() is None else text


def _figure(width: float, height: float, left=0.8, bottom=0.55, right=0.2, top=0.35,
            colorbar=False):
    """A figure with one axes placed by fixed margins in inches (a layout engine would draw the
    figure twice), and a colorbar axes at the right when asked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    if colorbar:
        right += 0.95
    axes = figure.add_axes((left / width, bottom / height, 1 - (left + right) / width,
                            1 - (bottom + top) / height))
    if not colorbar:
        return figure, axes
    bar = figure.add_axes((1 - (right - 0.15) / width, bottom / height, 0.14 / width,
                           1 - (bottom + top) / height))
    return figure, axes, bar


def data_uri(figure) -> str:
    """The figure as a base64 PNG data URI."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _style(axes):
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=MUTED, labelsize=8)
    axes.title.set_color(INK)


# ---- where a student's array differs ------------------------------------------------------------

def wants_picture(verdict, evidence) -> bool:
    """A picture explains better than the sentence: the array has time steps or gate blocks to
    point at, or it is a matrix wrong in no known way (the picture shows where); and the
    mistake is not a constant factor or a swap of the whole value."""
    if all(c.startswith("scale") or c in FACTOR_CODES for c in verdict.codes):
        return False
    difference = np.asarray(evidence.difference)
    if difference.size < 4 or not np.any(np.isfinite(difference)):
        return False
    if (evidence.time_axis is not None and difference.shape[evidence.time_axis] > 1) or (
            evidence.block_axis is not None and evidence.blocks):
        return True
    unexplained = any(c in ("other", "steps", "blocks") for c in verdict.codes)
    return unexplained and difference.ndim >= 2 and min(difference.shape) > 1


def _signed_extreme(values: np.ndarray, axes: tuple) -> np.ndarray:
    """Along `axes`, the entry of largest magnitude, with its sign."""
    if not axes:
        return values
    moved = np.moveaxis(values, axes, tuple(range(values.ndim - len(axes), values.ndim)))
    flat = moved.reshape(moved.shape[:values.ndim - len(axes)] + (-1,))
    index = np.argmax(np.abs(flat), axis=-1)
    return np.take_along_axis(flat, index[..., None], axis=-1)[..., 0]


def _reduce(evidence):
    """The difference as at most two named axes: (values, [(axis name, kind)], note).

    kind is "time", "block" or "index". Time goes on the horizontal axis; other axes than the
    time, the block and the first one are reduced to their largest difference.
    """
    values = np.nan_to_num(np.asarray(evidence.difference, dtype=np.float64), nan=0.0,
                           posinf=0.0, neginf=0.0)
    keep = [a for a in (evidence.time_axis, evidence.block_axis if evidence.blocks else None)
            if a is not None and a < values.ndim]
    for axis in range(values.ndim):
        if len(keep) >= 2:
            break
        if axis not in keep:
            keep.append(axis)
    keep = keep[:2]
    dropped = tuple(a for a in range(values.ndim) if a not in keep)
    note = ""
    if dropped:
        sizes = " × ".join(str(values.shape[a]) for a in dropped)
        note = i18n._("each cell shows the largest difference over the other {sizes} entries",
                      sizes=sizes)
    order = sorted(keep)
    reduced = _signed_extreme(values, dropped)  # remaining axes in increasing order
    kinds = []
    for axis in order:
        if axis == evidence.time_axis:
            kinds.append("time")
        elif axis == evidence.block_axis and evidence.blocks:
            kinds.append("block")
        else:
            kinds.append("index")
    # the horizontal axis (last) holds time, else the gate blocks
    if len(order) == 2 and (kinds[0] == "time" or (kinds[0] == "block" and kinds[1] != "time")):
        reduced, kinds, order = reduced.T, kinds[::-1], order[::-1]
    return reduced, kinds, order, note


def _axis_name(kind, axis, evidence, ndim, other_kinds):
    if kind == "time":
        return _words(N_("time step"))
    if kind == "block":
        return _words(N_("gate block"))
    if axis == 0 and ndim >= 2 and "time" in other_kinds and evidence.time_axis != 0:
        return _words(N_("sequence (row of the batch)"))
    if ndim == 2:
        return _words(N_("row")) if axis == 0 else _words(N_("column"))
    return _words(N_("index along axis {axis}"), axis=axis) if ndim > 2 else _words(N_("entry"))


def _block_ticks(axes, size, blocks, horizontal=True):
    width = size / len(blocks)
    centers = [width * (k + 0.5) - 0.5 for k in range(len(blocks))]
    edges = [width * k - 0.5 for k in range(1, len(blocks))]
    names = [drawable(i18n.translated(str(b)), str(b)) for b in blocks]  # the gates, in words
    if horizontal:
        axes.set_xticks(centers, names)
        for edge in edges:
            axes.axvline(edge, color=INK, linewidth=1.2)
    else:
        axes.set_yticks(centers, names)
        for edge in edges:
            axes.axhline(edge, color=INK, linewidth=1.2)


def _time_ticks(axes, size, horizontal=True):
    step = max(1, int(np.ceil(size / 12)))
    ticks = list(range(0, size, step))
    (axes.set_xticks if horizontal else axes.set_yticks)(ticks, [f"t={t}" for t in ticks])


def difference_figure(evidence) -> tuple[str, str]:
    """(data URI, caption) of a heatmap (2-D) or bar chart (1-D) of yours − reference."""
    values, kinds, order, note = _reduce(evidence)
    ndim = np.ndim(evidence.difference)
    limit = float(np.max(np.abs(values))) or 1.0
    label = evidence.label
    if values.ndim == 1:
        figure, axes = _figure(5.6, 2.6, left=0.85)
        positions = np.arange(values.size)
        colors = [RED if v > 0 else BLUE for v in values]
        axes.bar(positions, values, color=colors, width=0.8)
        axes.axhline(0, color=INK, linewidth=0.8)
        if kinds[0] == "block":
            width = values.size / len(evidence.blocks)
            for k in range(len(evidence.blocks)):
                if k % 2:
                    axes.axvspan(width * k - 0.5, width * (k + 1) - 0.5, color="#eef1f5", zorder=0)
            _block_ticks(axes, values.size, evidence.blocks)
        elif kinds[0] == "time":
            _time_ticks(axes, values.size)
        axes.set_xlim(-0.6, values.size - 0.4)
        axes.set_ylim(-1.08 * limit, 1.08 * limit)
        axes.set_xlabel(_axis_name(kinds[0], order[0], evidence, ndim, kinds), color=MUTED,
                        fontsize=9)
        axes.set_ylabel(_words(N_("yours − reference")), color=MUTED, fontsize=9)
    else:
        rows, columns = values.shape
        width = min(7.2, max(4.2, 1.6 + 0.32 * columns))
        height = min(4.8, max(2.4, 1.2 + 0.28 * rows))
        figure, axes, bar = _figure(width, height, left=0.85 if kinds[0] != "block" else 1.05,
                                     colorbar=True)
        image = axes.imshow(values, cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto",
                            interpolation="nearest")
        colorbar = figure.colorbar(image, cax=bar)
        colorbar.ax.tick_params(labelsize=7, colors=MUTED)
        colorbar.set_label(_words(N_("yours − reference")), fontsize=8, color=MUTED)
        for position, (kind, axis) in enumerate(zip(kinds, order)):
            horizontal = position == 1
            size = values.shape[position]
            if kind == "block":
                _block_ticks(axes, size, evidence.blocks, horizontal)
            elif kind == "time":
                _time_ticks(axes, size, horizontal)
            elif size <= 12:
                ticks = list(range(size))
                (axes.set_xticks if horizontal else axes.set_yticks)(ticks)
            name = _axis_name(kind, axis, evidence, ndim, kinds)
            (axes.set_xlabel if horizontal else axes.set_ylabel)(name, color=MUTED, fontsize=9)
    _style(axes)
    axes.set_title(_words(N_("your {label} − the reference"), label=label), fontsize=10,
                   loc="left")
    if note:
        caption = i18n._("Where your {label} differs from the reference ({note}).", label=label,
                         note=note)
    else:
        caption = i18n._("Where your {label} differs from the reference.", label=label)
    return data_uri(figure), caption


#: what the colours of every difference figure mean, said once per test on the page
LEGEND = N_("Red where yours is larger than the reference, blue where it is smaller, white "
            "where it matches; differences are relative to the largest reference value.")


# ---- class charts for the instructor --------------------------------------------------------

def score_histogram(scores: list, max_score: float) -> str:
    figure, axes = _figure(6.4, 2.6, left=0.6, top=0.15)
    top = max(max_score, max(scores, default=0.0), 1.0)
    bins = np.linspace(0, top, min(20, max(5, int(np.ceil(top)))) + 1)
    axes.hist(scores, bins=bins, color=BLUE, edgecolor="white")
    if scores:
        mean = float(np.mean(scores))
        axes.axvline(mean, color=AMBER, linewidth=2,
                     label=_words(N_("mean {mean}"), mean=format(mean, ".1f")))
        axes.legend(frameon=False, fontsize=8)
    axes.set_xlim(0, top)
    axes.set_xlabel(_words(N_("score (out of {max_score})"), max_score=format(max_score, "g")),
                    color=MUTED, fontsize=9)
    axes.set_ylabel(_words(N_("submissions")), color=MUTED, fontsize=9)
    axes.yaxis.get_major_locator().set_params(integer=True)
    _style(axes)
    return data_uri(figure)


def pass_rate_chart(rows: list) -> str:
    """rows: [(test name, pass rate 0..1, hidden?)], in spec order, drawn top to bottom."""
    figure, axes = _figure(9.6, 0.75 + 0.22 * len(rows), left=4.0, top=0.1)
    names = [_shorten(name, 64) for name, _, _ in rows]
    rates = [100 * rate for _, rate, _ in rows]
    colors = [GREEN if rate >= 80 else AMBER if rate >= 50 else RED for rate in rates]
    positions = np.arange(len(rows))
    bars = axes.barh(positions, rates, color=colors, height=0.7)
    for bar, (_, _, hidden) in zip(bars, rows):
        if hidden:
            bar.set_alpha(0.45)
            bar.set_hatch("///")
            bar.set_edgecolor("white")
    for y, rate in zip(positions, rates):
        axes.text(rate + 1, y, f"{rate:.0f}%", va="center", fontsize=7, color=MUTED)
    axes.set_yticks(positions, names, fontsize=7)
    axes.invert_yaxis()
    axes.set_xlim(0, 108)
    axes.set_xlabel(_words(N_("submissions passing, in percent (hatched: hidden test)")), color=MUTED,
                    fontsize=9)
    _style(axes)
    return data_uri(figure)


def diagnosis_chart(rows: list) -> str:
    """rows: [(short title, share 0..1)], most common first."""
    figure, axes = _figure(9.6, 0.75 + 0.3 * len(rows), left=3.6, top=0.1)
    positions = np.arange(len(rows))
    shares = [100 * share for _, share in rows]
    axes.barh(positions, shares, color=RED, height=0.65)
    for y, share in zip(positions, shares):
        axes.text(share + 1, y, f"{share:.0f}%", va="center", fontsize=8, color=INK)
    axes.set_yticks(positions, [_shorten(t, 56) for t, _ in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 110)
    axes.set_xlabel(_words(N_("submissions with this diagnosis, in percent")), color=MUTED,
                    fontsize=9)
    _style(axes)
    return data_uri(figure)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
