"""The summary table `grader grade` prints at the end on a terminal (rich): one row per
submission with its score, the tests it failed and its first diagnosis."""
from grader.report import stats


def print_table(graded_list, assignment, summary_page=None, file=None, width=None) -> None:
    """summary_page: the class page, named under the table when it was written."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=file, highlight=False, width=width)
    table = Table(title=f"{assignment.title} ({assignment.name})", title_justify="left",
                  expand=False)
    table.add_column("submission", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("failed", justify="right")
    table.add_column("first diagnosis", overflow="fold", max_width=70)
    top = assignment.max_score or 1
    for graded in sorted(graded_list, key=lambda g: g.id):
        failed = [v for v in graded.verdicts if not v.passed]
        share = graded.score / top
        style = "green" if share >= 1 else "yellow" if share >= 0.5 else "red"
        if graded.error:
            why = Text(f"could not be graded: {graded.error}", style="red")
        elif failed:
            first = failed[0]
            why = Text(stats.title_of(first.codes[0], first.messages[0] if first.messages
                                      else "") if first.codes else "")
        else:
            why = Text("all tests pass", style="green")
        table.add_row(graded.id, Text(f"{round(graded.score, 2):g} / {assignment.max_score:g}",
                                      style=style), str(len(failed)), why)
    summary = stats.scores(graded_list)
    table.caption = (f"mean {summary['mean']:.2f} · median {round(summary['median'], 2):g} · "
                     f"{sum(1 for g in graded_list if g.score >= assignment.max_score)} full marks"
                     + (f" · class page: {summary_page}" if summary_page else ""))
    table.caption_justify = "left"
    console.print(table)
